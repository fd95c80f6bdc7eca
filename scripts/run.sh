#!/usr/bin/env bash
# The README's run command: installs what is needed, builds everything, starts the embedded
# server (logfluxd) on a fresh data directory, and walks through what a customer does with the
# logflux CLI — key pair, login, app, API key — then runs logflux-agent on an application's log
# file (native protocol) and sends SDK-style logs through the LogFlux v3 protocol, reads them
# back decrypted with `logflux query`, checks their integrity with `logflux verify`, and
# searches every file the server and the agent wrote for the log text.
#   scripts/run.sh             the tour
#   scripts/run.sh --offline   the same story in one process (no server), with tampering
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build/run -DCMAKE_BUILD_TYPE=Release -DLF_TESTS=OFF >/dev/null
cmake --build build/run -j"$(nproc)" --target logfluxd logflux-cli logflux-agent lf-test-sender lf-demo >/dev/null
if [ "${1:-}" = "--offline" ]; then
    exec build/run/examples/lf-demo
fi

bin=build/run
work=$(pwd)/build/run/demo
rm -rf "$work"
mkdir -p "$work"
# The demo keeps the CLI's profile and cache inside build/run/demo, not in your home.
export XDG_CONFIG_HOME="$work/config" XDG_CACHE_HOME="$work/cache"
export LOGFLUX_PASSPHRASE="correct horse battery staple"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "start the server: logfluxd init (once), then serve"
run "$bin/src/server/logfluxd" init --data "$work/data" --tenant acme >"$work/init.json"
token=$(sed -n 's/.*"admin_token": "\([^"]*\)".*/\1/p' "$work/init.json")
cert=$(sed -n 's/.*"tls_cert": "\([^"]*\)".*/\1/p' "$work/init.json")
echo "   init printed the tenant's admin token and its TLS certificate, once"
"$bin/src/server/logfluxd" serve --data "$work/data" --listen 127.0.0.1:0 \
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
url="https://127.0.0.1:$port"
echo "   logfluxd serving on $url (TLS 1.3, every role in one process)"

lf="$bin/src/cli/logflux"
step "the customer's key pair: RSA-4096, private key encrypted with a passphrase (scrypt), 0600"
run "$lf" keys init --out "$work/customer.key"
step "log in (profile in $XDG_CONFIG_HOME/logflux, mode 0600) and set the tenant up"
printf '$ %s\n' "$lf login --endpoint $url --token <admin token from init> --ca $cert"
"$lf" login --endpoint "$url" --token "$token" --ca "$cert"
run "$lf" --key "$work/customer.key" admin keys register
run "$lf" admin apps create checkout
api_key=$("$lf" -o json admin api-keys create --app checkout --label demo |
    sed -n 's/.*"api_key": *"\([^"]*\)".*/\1/p')
echo "   API key for app checkout created (its secret is shown once; kept for the senders)"

step "send logs: sealed on the sending side, pinned to the customer key"
now() { date -u +%Y-%m-%dT%H:%M:%S.%NZ; }
mkdir -p "$work/app"
cat >"$work/app/checkout.log" <<JSON
{"time":"$(now)","level":"info","msg":"user alice@example.com paid order 7731 with card ending 4242","order":"7731"}
{"time":"$(now)","level":"warn","msg":"payment provider timeout after 3000 ms, retrying order 7732","order":"7732"}
{"time":"$(now)","level":"info","msg":"order 7733 shipped to 221B Baker Street, London","order":"7733"}
JSON
cat >"$work/v3.jsonl" <<JSON
{"v":"2.0","type":"log","level":5,"source":"auth","ts":"$(now)","message":"password reset requested for bob@example.com from 203.0.113.9","attributes":{"region":"us-east"}}
{"v":"2.0","type":"log","level":3,"source":"billing","ts":"$(now)","message":"nightly settlement batch failed: 3 of 1204 orders unreconciled","attributes":{"region":"us-east"}}
JSON
printf '%s\n' "$api_key" >"$work/api-key"
chmod 600 "$work/api-key"
fingerprint=$("$lf" --key "$work/customer.key" keys show 2>/dev/null | grep -o 'SHA256:[0-9a-f]*' | head -1)
cat >"$work/agent.yaml" <<YAML
endpoint: $url
tenant: acme
app: checkout
api_key_file: $work/api-key
public_key_file: $work/customer.key.pub
public_key_fingerprint: $fingerprint
state_dir: $work/agent
tls: {ca_file: $cert}
labels: {region: eu-west}
ops: {listen: '127.0.0.1:0'}
batch: {max_wait: 200ms}
parsers:
  - {name: app-json, type: json, keep_fields: true}
inputs:
  - type: tail
    name: checkout
    paths: ['$work/app/*.log']
    read_from_head: true
    parser: app-json
YAML
echo "   logflux-agent (as deployed next to an app): tails $work/app/checkout.log, parses JSON,"
echo "   seals zstd blocks to the pinned customer key before anything touches its disk buffer,"
echo "   ships HMAC-signed with idempotency keys"
run "$bin/src/agent/logflux-agent" --check-config "$work/agent.yaml"
"$bin/src/agent/logflux-agent" --config "$work/agent.yaml" 2>"$work/agent.log" &
apid=$!
trap 'kill "$pid" "$apid" 2>/dev/null || true' EXIT
ops=""
for _ in $(seq 100); do
    ops=$(sed -n 's/.*ops endpoint on .* port \([0-9]*\).*/\1/p' "$work/agent.log" | head -1)
    [ -n "$ops" ] && break
    sleep 0.05
done
shipped() { curl -s "http://127.0.0.1:$ops/metrics" | awk '/^logflux_agent_ship_records_total/ {print $NF}'; }
for _ in $(seq 100); do
    [ "$(shipped)" = 3 ] && break
    sleep 0.1
done
echo "   agent metrics (http://127.0.0.1:$ops/metrics):"
curl -s "http://127.0.0.1:$ops/metrics" | grep -E '^logflux_agent_(input_records|sealed_records|ship_records)_total' | sed 's/^/     /'
kill -TERM "$apid"
wait "$apid" || true
echo "   agent stopped on SIGTERM (sealed the close marker of its session key, shipped, exited)"
sender() { "$bin/tools/sender/lf-test-sender" --url "$url" --ca "$cert" --api-key "$api_key" \
    --public-key "$work/customer.key.pub" --tenant acme --app checkout "$@"; }
echo "   LogFlux v3 protocol (as the official SDKs send): handshake, then multipart"
sender --format v3 --json-file "$work/v3.jsonl"

step "read them back: the CLI fetches ciphertext, unwraps the session keys, decrypts locally"
for _ in $(seq 50); do
    [ "$("$lf" -o json query --since 1h --app checkout 2>/dev/null | grep -c '"message"')" -ge 5 ] && break
    sleep 0.2
done
run "$lf" --key "$work/customer.key" query --since 1h --app checkout
run "$lf" --key "$work/customer.key" query --since 1h --level warning --grep order
run "$lf" --key "$work/customer.key" sql "SELECT source, count(*) AS n, min(level) AS worst FROM logs GROUP BY source ORDER BY n DESC"
run "$lf" --key "$work/customer.key" verify --since 1h --app checkout

step "what the server holds"
kill -TERM "$pid"
wait "$pid" || true
trap - EXIT
files=$(find "$work/data" -type f | wc -l)
echo "   logfluxd drained and stopped; $files files in its data directory, e.g.:"
find "$work/data/objects" -name '*.parquet' | head -n 2 | sed 's/^/     /'
{
    sed -n 's/.*"msg":"\([^"]*\)".*/\1/p' "$work/app/checkout.log"
    sed -n 's/.*"message":"\([^"]*\)".*/\1/p' "$work/v3.jsonl"
} >"$work/messages.txt"
if grep -rlF -f "$work/messages.txt" "$work/data" "$XDG_CACHE_HOME" "$work/agent" 2>/dev/null; then
    echo "   PLAINTEXT FOUND in the files above" >&2
    exit 1
fi
echo "   searched every file of the server, the agent's buffer and checkpoints, and the CLI's"
echo "   ciphertext cache for the $(wc -l <"$work/messages.txt") messages sent: none found."
echo "   Only the customer's key reads them."
