#!/usr/bin/env bash
# clang-format over every C source and header of the project.
#   scripts/format.sh          rewrite files in place
#   scripts/format.sh --check  fail (and list) if any file is not formatted
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.c' '*.h')
[ ${#files[@]} -gt 0 ] || exit 0
if [ "${1:-}" = "--check" ]; then
    clang-format --dry-run --Werror "${files[@]}"
    echo "format: ${#files[@]} files ok"
else
    clang-format -i "${files[@]}"
fi
