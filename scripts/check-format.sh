#!/usr/bin/env bash
# Fails when clang-format (with the repository's .clang-format) would change a source file.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files --cached --others --exclude-standard '*.cpp' '*.hpp')
bad=()
for f in "${files[@]}"; do
  [[ -f "$f" ]] || continue
  clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if ((${#bad[@]})); then
  echo "check-format: clang-format would change: ${bad[*]} (run 'make format')" >&2
  exit 1
fi
