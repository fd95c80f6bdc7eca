#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls exactly this):
#   1. install dependencies (idempotent)
#   2. clang-format check
#   3. gcc build with -Wall -Wextra -Werror, all tests (unit, vectors, Node.js interop, symbol check)
#   4. the same suite again under AddressSanitizer + UndefinedBehaviorSanitizer
#   5. every libFuzzer target for a fixed time (FUZZ_SECONDS, default 20) from its seed corpus,
#      one per core at a time
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=$(nproc)
fuzz_seconds=${FUZZ_SECONDS:-20}

step() { printf '\n==== %s ====\n' "$*"; }

step "dependencies"
scripts/deps.sh

step "format check"
scripts/format.sh --check

step "build (gcc, -Werror)"
cmake -S . -B build/ci-release -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLF_WERROR=ON >/dev/null
cmake --build build/ci-release -j"$jobs"
step "tests"
(cd build/ci-release && ctest --output-on-failure -j"$jobs")

step "build (ASan + UBSan)"
cmake -S . -B build/ci-asan -DCMAKE_BUILD_TYPE=Debug -DLF_WERROR=ON -DLF_SANITIZE=ON >/dev/null
cmake --build build/ci-asan -j"$jobs"
step "tests under ASan + UBSan"
(cd build/ci-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j"$jobs")

step "fuzz targets (${fuzz_seconds}s each)"
CC=clang cmake -S . -B build/ci-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLF_FUZZ=ON -DLF_TESTS=OFF \
    >/dev/null
cmake --build build/ci-fuzz -j"$jobs"
# One target per core at a time; each writes its verdict to a file read at the end.
results=$(mktemp -d)
fuzz_one() {
    local target=$1 name work
    name=$(basename "$target")
    work=$(mktemp -d)
    [ -d "tests/fuzz/corpus/$name" ] && cp -r "tests/fuzz/corpus/$name/." "$work/"
    if "$target" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$work/" "$work" >"$work.log" 2>&1; then
        echo "fuzz $name: ok ($(grep -Eo '#[0-9]+' "$work.log" | tail -1 | tr -d '#') runs)" \
            >"$results/$name.ok"
    else
        { echo "fuzz $name: FAILED"; tail -n 40 "$work.log"; } >"$results/$name.failed"
    fi
    rm -rf "$work" "$work.log"
}
running=0
for target in build/ci-fuzz/tests/fuzz/fuzz_*; do
    [ -x "$target" ] || continue
    fuzz_one "$target" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n
        running=$((running - 1))
    fi
done
wait
cat "$results"/*.ok 2>/dev/null || true
cat "$results"/*.failed 2>/dev/null || true
fuzz_passed=$(find "$results" -name '*.ok' | wc -l)
fuzz_failed=$(find "$results" -name '*.failed' | wc -l)
rm -rf "$results"
echo "fuzz: $fuzz_passed passed, $fuzz_failed failed"
[ "$fuzz_failed" -eq 0 ]
step "all green"
