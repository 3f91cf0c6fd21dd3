#!/usr/bin/env bash
# Enforces the pipeline's dependency rule (ARCHITECTURE.md): a stage includes only itself
# and the stages before it; src/util includes no nrmlab stage at all.
set -euo pipefail
cd "$(dirname "$0")/.."
stages=(util model telemetry study analysis validate report cli)
status=0
for i in "${!stages[@]}"; do
  stage=${stages[$i]}
  [[ -d src/$stage ]] || continue
  for ((j = i + 1; j < ${#stages[@]}; j++)); do
    later=${stages[$j]}
    if hits=$(grep -rnE "#include \"$later/" "src/$stage" 2>/dev/null); then
      echo "check-layering: src/$stage must not include src/$later:" >&2
      echo "$hits" >&2
      status=1
    fi
  done
done
# Siblings: the report stage sits after validate in the list but must not use it either.
if hits=$(grep -rnE '#include "validate/' src/report 2>/dev/null); then
  echo "check-layering: src/report must not include src/validate:" >&2
  echo "$hits" >&2
  status=1
fi
exit $status
