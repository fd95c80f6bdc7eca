#!/usr/bin/env bash
# The README's run command: installs what is needed, builds, starts the embedded server
# (logfluxd) on a fresh data directory, and runs the demo client against it — logs sealed where
# they are born, stored by the server as ciphertext only, read back and decrypted with the
# customer's private key — then searches every file the server wrote for the log text.
#   scripts/run.sh [--offline]   (--offline: the same story in one process, no server)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build/run -DCMAKE_BUILD_TYPE=Release -DLF_TESTS=OFF >/dev/null
cmake --build build/run -j"$(nproc)" --target logfluxd lf-demo lf-demo-server >/dev/null
if [ "${1:-}" = "--offline" ]; then
    exec build/run/examples/lf-demo
fi

work=build/run/demo
rm -rf "$work"
mkdir -p "$work"
echo "== logfluxd init --data $work/data --tenant acme"
build/run/src/server/logfluxd init --data "$work/data" --tenant acme >"$work/init.json"
token=$(sed -n 's/.*"admin_token": "\([^"]*\)".*/\1/p' "$work/init.json")
cert=$(sed -n 's/.*"tls_cert": "\([^"]*\)".*/\1/p' "$work/init.json")
echo "   admin token and TLS certificate printed once (kept in $work/init.json for this demo)"

echo "== logfluxd serve (TLS 1.3 on 127.0.0.1, every role in one process)"
build/run/src/server/logfluxd serve --data "$work/data" --listen 127.0.0.1:0 \
    --set worker.flush_interval=500ms 2>"$work/server.log" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
port=""
for _ in $(seq 100); do
    port=$(sed -n 's/.*serving on .* port \([0-9]*\) .*/\1/p' "$work/server.log")
    [ -n "$port" ] && break
    sleep 0.05
done
[ -n "$port" ] || { cat "$work/server.log"; exit 1; }
echo "   listening on https://127.0.0.1:$port"

build/run/examples/lf-demo-server --url "https://127.0.0.1:$port" --ca "$cert" --token "$token" \
    --out "$work"

echo "== what the server holds"
kill -TERM "$pid"
wait "$pid"
trap - EXIT
files=$(find "$work/data" -type f | wc -l)
parquet=$(find "$work/data/objects" -name '*.parquet' | wc -l)
echo "   $files files in the data directory ($parquet Parquet files), e.g.:"
find "$work/data/objects" -name '*.parquet' | head -n 2 | sed 's/^/     /'
if grep -rlF -f "$work/messages.txt" "$work/data"; then
    echo "   PLAINTEXT FOUND in the files above" >&2
    exit 1
fi
echo "   searched them all for the $(wc -l <"$work/messages.txt") messages sent: none found."
echo "   logfluxd drained and stopped on SIGTERM. Server log: $work/server.log"
