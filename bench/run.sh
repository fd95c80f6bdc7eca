#!/usr/bin/env bash
# One command for the benchmarks: builds a Release tree and runs each benchmark beside its
# reference, measured in the same run, and prints ratios.
#   bench/run.sh [all|crypto|ingest|decrypt|agent] [SECONDS_PER_FIGURE]   (defaults: all, 2)
# decrypt: the CLI read path over cached rows (open + zstd + decode + filter) beside
#          `openssl speed -evp aes-256-gcm` at 16 KiB, one core.
# crypto: seal/open beside `openssl speed -evp aes-256-gcm` (256 B and 16 KiB).
# ingest: logfluxd on loopback (TLS, fresh data directory) beside a discard server on the
#         same HTTP layer, at increasing concurrency.
# agent:  logflux-agent tailing 200-byte lines to a local logfluxd beside `zstd -1`
#         (bench/agent.sh; LF_AGENT_BENCH_LINES, default 2,000,000).
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
secs=${2:-2}
cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DLF_TESTS=OFF >/dev/null
cmake --build build/bench -j"$(nproc)" >/dev/null

if [ "$what" = all ] || [ "$what" = crypto ]; then
    # openssl speed -mr prints "+F:<n>:AES-256-GCM:<bytes/s at each size>".
    openssl_rate() {
        openssl speed -mr -seconds "$secs" -bytes "$1" -evp aes-256-gcm 2>/dev/null |
            awk -F: '/^\+F:/ {print $4}'
    }
    echo "== crypto: measuring openssl speed -evp aes-256-gcm (256 B and 16 KiB, ${secs}s each)"
    ossl_256=$(openssl_rate 256)
    ossl_16k=$(openssl_rate 16384)
    echo "openssl: $(awk -v r="$ossl_256" 'BEGIN{printf "%.0f MB/s (%.0f ops/s) at 256 B", r/1e6, r/256}'), $(awk -v r="$ossl_16k" 'BEGIN{printf "%.0f MB/s at 16 KiB", r/1e6}')"
    build/bench/bench/bench_crypto --seconds "$secs" --openssl-256 "$ossl_256" --openssl-16k "$ossl_16k"
fi

if [ "$what" = all ] || [ "$what" = ingest ]; then
    echo "== ingest: logfluxd on 127.0.0.1 (TLS 1.3, fresh data directory)"
    data=$(mktemp -d)
    port=$((20000 + RANDOM % 20000))
    init=$(build/bench/src/server/logfluxd init --data "$data/d")
    token=$(printf '%s' "$init" | sed -n 's/.*"admin_token": "\([^"]*\)".*/\1/p')
    build/bench/src/server/logfluxd serve --data "$data/d" --listen "127.0.0.1:$port" \
        --set http.threads=32 --set ratelimit.per_key_per_sec=0 --set ratelimit.per_ip_per_sec=0 \
        2>"$data/server.log" &
    pid=$!
    trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$data"' EXIT
    for _ in $(seq 50); do
        curl -sf --cacert "$data/d/tls/cert.pem" "https://127.0.0.1:$port/health" >/dev/null && break
        sleep 0.1
    done
    build/bench/bench/bench_ingest --url "https://127.0.0.1:$port" --ca "$data/d/tls/cert.pem" \
        --key "$data/d/tls/key.pem" --token "$token" --seconds "$secs" --concurrency 1,4,16,64
fi

if [ "$what" = all ] || [ "$what" = decrypt ]; then
    echo "== decrypt: logflux query's open + decompress + decode + filter over cached rows, one core"
    ossl_16k=$(openssl speed -mr -seconds "$secs" -bytes 16384 -evp aes-256-gcm 2>/dev/null |
        awk -F: '/^\+F:/ {print $4}')
    build/bench/bench/bench_decrypt --seconds "$secs" --openssl-16k "$ossl_16k"
fi

if [ "$what" = all ] || [ "$what" = agent ]; then
    echo "== agent: tail -> seal -> disk buffer -> ship to logfluxd on 127.0.0.1 (TLS)"
    bench/agent.sh build/bench "${LF_AGENT_BENCH_LINES:-2000000}"
fi
