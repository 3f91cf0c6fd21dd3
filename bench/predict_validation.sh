#!/usr/bin/env bash
# The predictor against real runs (issue 22): for each configuration, `nrmlab predict --json`
# and then `nrmlab run` with the same options, one after the other on this machine; the error
# of the predicted total against the run's measured time (the sum of its conditions'
# runtimes, and the whole process). Writes bench/results/prediction-validation.{json,md} and
# prints one JSON line per configuration (bench/run.sh gathers them).
# Usage: bench/predict_validation.sh [NRMLAB_BINARY] [CONFIG_NAME...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
nrmlab=${1:-$root/build/release/nrmlab}
shift || true
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 - "$nrmlab" "$work" "$root/bench/results" "$@" <<'PY'
import json, os, sqlite3, subprocess, sys, time
nrmlab, work, results, only = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
# name: the run's options. Each keeps its real run under about a minute on a 2-core VM.
CONFIGS = {
    "as-run, 1 ms windows, 20 agents, 40 steps":
        ["--preset", "as-run", "--window-ms", "1", "--max-agents", "20", "--steps", "40"],
    "optimized-as-run, 1 ms windows, 20 agents, 40 steps":
        ["--preset", "optimized-as-run", "--variant", "as-run", "--window-ms", "1",
         "--max-agents", "20", "--steps", "40"],
    "optimized-as-intended, 1 ms windows, 20 agents, 60 steps":
        ["--preset", "optimized-as-intended", "--window-ms", "1", "--max-agents", "20",
         "--steps", "60"],
    "clean, commit-per-write, 30 agents, 60 steps":
        ["--preset", "clean", "--persistence", "commit-per-write", "--max-agents", "30",
         "--steps", "60"],
    "clean, 100 agents, 600 steps":
        ["--preset", "clean", "--steps", "600"],
    "clean at full size (100 agents, 3,000 steps)":
        ["--preset", "clean"],
    "clean, databases off, 1,000 agents, 300 steps":
        ["--preset", "clean", "--persistence", "off", "--max-agents", "1000", "--steps", "300"],
}
cache = f"{work}/cache"
REPEATS = 3
rows = []
for number, (name, options) in enumerate(CONFIGS.items()):
    if only and not any(o in name for o in only):
        continue
    common = ["--experiment", "c256", "--source", "synthetic:7"] + options
    predicted_json = f"{work}/predicted-{number}.json"
    out = f"{work}/run-{number}"
    # --out as the run's: the unit costs are those of the file system its databases go to.
    subprocess.run([nrmlab, "predict", *common, "--out", out, "--cache-dir", cache, "--json",
                    predicted_json, "-q"], check=True, capture_output=True)
    predicted = json.load(open(predicted_json))
    # The same run REPEATS times: on a shared machine a run's time varies (disk latency
    # above all), so the prediction is compared with the median and the spread is shown.
    runs = []
    for _ in range(REPEATS):
        start = time.monotonic()
        subprocess.run([nrmlab, "run", *common, "--out", out, "-q"], check=True,
                       capture_output=True)
        wall = time.monotonic() - start
        result = json.load(open(f"{out}/result.json"))
        conditions = sum(c["runtime_seconds"] for c in result["conditions"].values())
        # The run's own account of its sections (telemetry.db), beside the predicted ones.
        db = sqlite3.connect(f"{out}/telemetry.db")
        sections = dict(zip(
            ["window_s", "sampling_s", "database_s", "compute_s"],
            (v / 1e9 for v in db.execute(
                "SELECT sum(window_ns), sum(sampling_ns), sum(database_ns), sum(wall_ns) - "
                "sum(window_ns) - sum(sampling_ns) - sum(database_ns) FROM steps").fetchone())))
        db.close()
        subprocess.run(["rm", "-rf", out])
        runs.append((conditions, wall, sections))
    runs.sort(key=lambda r: r[0])
    measured, wall, measured_sections = runs[len(runs) // 2]
    row = {"bench": "prediction", "configuration": name, "options": options,
           "predicted_s": predicted["total_s"], "interval_s": predicted["interval_s"],
           "measured_s": measured, "measured_range_s": [runs[0][0], runs[-1][0]],
           "process_s": wall,
           "error": predicted["total_s"] / measured - 1.0,
           "sections": predicted["sections"], "measured_sections": measured_sections}
    rows.append(row)
    print(json.dumps(row), flush=True)
json.dump({"machine_load_at_end": open("/proc/loadavg").read().split()[:3], "rows": rows},
          open(f"{results}/prediction-validation.json", "w"), indent=1)
with open(f"{results}/prediction-validation.md", "w") as md:
    md.write(f"| configuration (C256, synthetic source) | predicted | interval | measured, median "
             f"of {REPEATS} (range) | error |\n|---|---|---|---|---|\n")
    for r in rows:
        lo, hi = r["interval_s"]
        m_lo, m_hi = r["measured_range_s"]
        md.write(f"| {r['configuration']} | {r['predicted_s']:.2f} s | {lo:.2f}-{hi:.2f} s | "
                 f"{r['measured_s']:.2f} s ({m_lo:.2f}-{m_hi:.2f}) | {100 * r['error']:+.1f}% |\n")
PY
