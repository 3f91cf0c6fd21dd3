#!/usr/bin/env bash
# The report's limits (issue 6), end to end on this machine:
#   * the report of the default attribution study: at most 2 MB, open (load to last chart
#     drawn) in under 2 s in headless Chromium;
#   * a 1,000,000-step run: a report under 5 MB.
# Usage: bench/report_limits.sh [NRMLAB_BINARY] [WORK_DIR]
# Uses runs/attribution when `make run` has made it; otherwise runs the study first (about
# three minutes). Prints one JSON line per report: bytes, charts, load_ms (median of 3).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
nrmlab=${1:-$root/build/release/nrmlab}
work=${2:-$(mktemp -d)}
e2e=$root/tests/e2e/report_e2e.mjs

median_load() {  # REPORT_HTML LABEL
  local loads=() line
  for i in 1 2 3; do
    line=$(node "$e2e" "$1" "$work/$2-$i.png" | tail -1)
    loads+=("$(sed -E 's/.*"load_ms":([0-9.]+).*/\1/' <<<"$line")")
  done
  local median
  median=$(printf '%s\n' "${loads[@]}" | sort -g | sed -n 2p)
  sed -E "s/\"load_ms\":[0-9.]+/\"load_ms\":$median/; s/^\{/{\"report\":\"$2\",/" <<<"$line"
}

study=$root/runs/attribution
if [[ ! -f $study/analysis.json ]]; then
  "$nrmlab" study "$root/studies/attribution.toml" --out "$study" -q >/dev/null
fi
"$nrmlab" report "$study" -q >/dev/null
median_load "$study/report.html" attribution

big=$work/million
"$nrmlab" run --steps 250000 --max-agents 8 --source synthetic --persistence off --out "$big" -q >/dev/null
"$nrmlab" analyze "$big" --mode all --quiet >/dev/null
start=$(date +%s%N)
"$nrmlab" report "$big" -q >/dev/null
echo "{\"report\":\"million-steps\",\"report_ms\":$((($(date +%s%N) - start) / 1000000))}"
median_load "$big/report.html" million-steps
