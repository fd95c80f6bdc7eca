#!/usr/bin/env bash
# Installs every build and test dependency of LogFlux on Debian 12. Idempotent: packages already
# present are not touched, and apt-get runs only when something is missing.
set -euo pipefail

packages=(
    build-essential cmake pkg-config git ca-certificates
    clang libclang-rt-14-dev clang-format
    libssl-dev openssl zlib1g-dev libzstd-dev zstd libjansson-dev libcmocka-dev
    libsqlite3-dev sqlite3 libmicrohttpd-dev libgnutls28-dev gnutls-bin curl libyaml-dev libcurl4-openssl-dev
    libsystemd-dev systemd-journal-remote libpcre2-dev
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js runs the interoperability tests (its crypto is the independent implementation).
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -gt 0 ]; then
    echo "deps: installing ${missing[*]}"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
    echo "deps: all present"
fi

# npm packages of the Node.js tests (DuckDB for the Parquet interoperability test): installed
# when node_modules is missing or package.json changed since the last install.
node_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/node"
if [ -f "$node_dir/package.json" ] &&
    { [ ! -d "$node_dir/node_modules" ] || [ "$node_dir/package.json" -nt "$node_dir/node_modules" ]; }; then
    echo "deps: npm install in tests/node"
    npm --prefix "$node_dir" ci --no-audit --no-fund
    touch "$node_dir/node_modules"
fi
