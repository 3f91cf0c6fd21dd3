#!/usr/bin/env bash
# `make bench`: every benchmark, into bench/results/<date>.json:
#   micro       Google Benchmark (bench/nrmlab_bench): pair check, cluster fold,
#               cluster-table pooling, evolve, pooling steps at 100 / 1,000 / 10,000 agents,
#               whole C256, the probe set, a telemetry batch, Spearman / OLS / HAC on 10^6
#               points, analysis of a 10^6-step run, the watch probe and marker parser,
#               the clean preset's store against a plain prepared-insert loop (C256 at 300
#               and 3,000 steps per condition);
#   end_to_end  bench/end_to_end.sh, bench/report_limits.sh, bench/watch_cost.sh;
#   machine     what it ran on.
# Usage: bench/run.sh BUILD_DIR (the release build).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/release}
mkdir -p "$root/bench/results"
out=$root/bench/results/$(date +%Y-%m-%d).json
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$build/bench/nrmlab_bench" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
  --benchmark_out="$work/micro.json" --benchmark_out_format=json
{
  "$root/bench/end_to_end.sh" "$build/nrmlab"
  "$root/bench/report_limits.sh" "$build/nrmlab" "$work/report"
  "$root/bench/watch_cost.sh" "$build/nrmlab"
} | tee "$work/end_to_end.jsonl"
python3 - "$work" "$out" <<'PY'
import json, os, platform, sys
work, out = sys.argv[1], sys.argv[2]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
doc = {"machine": {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release()},
       "micro": json.load(open(f"{work}/micro.json")),
       "end_to_end": [json.loads(l) for l in open(f"{work}/end_to_end.jsonl") if l.startswith("{")]}
json.dump(doc, open(out, "w"), indent=1)
print(f"bench: {out}")
PY
