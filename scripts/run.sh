#!/usr/bin/env bash
# The README's run command: installs what is needed, builds, and runs the demo that shows logs
# sealed where they are born (ciphertext is all that a server would hold) and opened only with
# the customer's private key.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build/run -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/run -j"$(nproc)" --target lf-demo
exec build/run/examples/lf-demo "$@"
