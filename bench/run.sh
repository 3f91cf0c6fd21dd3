#!/usr/bin/env bash
# `make bench`: every benchmark, into bench/results/<date>.json:
#   micro       Google Benchmark (bench/nrmlab_bench): pair check, cluster fold,
#               cluster-table pooling, evolve, pooling steps at 100 / 1,000 / 10,000 agents,
#               whole C256, the probe set, a telemetry batch, Spearman / OLS / HAC on 10^6
#               points, analysis of a 10^6-step run, the watch probe and marker parser,
#               the clean preset's store against a plain prepared-insert loop (C256 at 300
#               and 3,000 steps per condition);
#               the pair kernels against the CPU's double multiply and divide throughput,
#               exact vs division-free, every instruction set, one thread vs every core
#               (kernel_bench.cpp); benchmarks interleave at random so a competing load
#               hits every variant alike (compare the medians);
#   end_to_end  bench/end_to_end.sh, bench/report_limits.sh, bench/watch_cost.sh,
#               bench/nrmlab_recorder_load_bench (the recorder's cost to 20 µs steps, with and
#               without a busy loop per core), bench/predict_validation.sh (`nrmlab predict`
#               against real runs, into bench/results/prediction-validation.{json,md});
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
  --benchmark_enable_random_interleaving=true \
  --benchmark_out="$work/micro.json" --benchmark_out_format=json
{
  "$root/bench/end_to_end.sh" "$build/nrmlab"
  "$root/bench/report_limits.sh" "$build/nrmlab" "$work/report"
  "$root/bench/watch_cost.sh" "$build/nrmlab"
  "$build/bench/nrmlab_recorder_load_bench"
  "$root/bench/predict_validation.sh" "$build/nrmlab"
} | tee "$work/end_to_end.jsonl"
python3 - "$work" "$out" <<'PY'
import json, os, platform, sys
work, out = sys.argv[1], sys.argv[2]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
flags = next((l.split(":", 1)[1].split() for l in open("/proc/cpuinfo") if l.startswith("flags")), [])
isa = [f for f in ("sse2", "avx2", "fma", "avx512f") if f in flags]
load = open("/proc/loadavg").read().split()[:3]
doc = {"machine": {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
                   "isa": isa, "loadavg_at_end": load},
       "micro": json.load(open(f"{work}/micro.json")),
       "end_to_end": [json.loads(l) for l in open(f"{work}/end_to_end.jsonl") if l.startswith("{")]}
json.dump(doc, open(out, "w"), indent=1)
print(f"bench: {out}")
PY
