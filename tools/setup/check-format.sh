#!/usr/bin/env bash
# Fails (listing the offending lines) when a C++ source under actors/, runtime/,
# tools/, examples/, test/ or fuzz/ differs from what clang-format-14 makes of it with
# the repository's .clang-format. The files in tools/setup/format-exclude.txt
# keep their layout (the docs excerpt their code verbatim).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
mapfile -t excluded < <(grep -v '^\s*\(#\|$\)' tools/setup/format-exclude.txt)
files=()
while IFS= read -r f; do
  skip=0
  for e in "${excluded[@]}"; do
    [[ $f == "$e" ]] && skip=1
  done
  ((skip)) || files+=("$f")
done < <(find actors runtime tools examples test fuzz -type f \
           \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' \) -not -path '*/node_modules/*' | sort)
clang-format-14 --dry-run --Werror "${files[@]}"
echo "check-format: ${#files[@]} files formatted (${#excluded[@]} excluded)"
