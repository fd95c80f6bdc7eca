#!/usr/bin/env bash
# One command for the benchmarks: builds a Release tree and runs each benchmark beside its
# reference, measured in the same run, and prints ratios.
#   bench/run.sh [SECONDS_PER_FIGURE]   (default 2)
# Reference for the crypto figures: `openssl speed -evp aes-256-gcm` at 256 B and 16 KiB.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-2}
cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DLF_TESTS=OFF >/dev/null
cmake --build build/bench -j"$(nproc)" --target bench_crypto >/dev/null

# openssl speed -mr prints "+F:<n>:AES-256-GCM:<bytes/s at each size>".
openssl_rate() {
    openssl speed -mr -seconds "$secs" -bytes "$1" -evp aes-256-gcm 2>/dev/null |
        awk -F: '/^\+F:/ {print $4}'
}
echo "measuring openssl speed -evp aes-256-gcm (256 B and 16 KiB, ${secs}s each)..."
ossl_256=$(openssl_rate 256)
ossl_16k=$(openssl_rate 16384)
echo "openssl: $(awk -v r="$ossl_256" 'BEGIN{printf "%.0f MB/s (%.0f ops/s) at 256 B", r/1e6, r/256}'), $(awk -v r="$ossl_16k" 'BEGIN{printf "%.0f MB/s at 16 KiB", r/1e6}')"
build/bench/bench/bench_crypto --seconds "$secs" --openssl-256 "$ossl_256" --openssl-16k "$ossl_16k"
