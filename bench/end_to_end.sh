#!/usr/bin/env bash
# End-to-end engine figures (issue 8): the whole C256 at its original size (4 conditions x
# 3,000 steps) under the clean preset (its bridge.db takes a row per pair checked), then
# the engine alone (persistence off) at the original 100 agents and at 1,000, each with the
# recorder's share of wall time. The other presets write a database connection per row and
# sleep 100 ms per sample: at full size they take hours to days, so their figure is the
# study planner's estimate (`nrmlab study studies/paper-c256.toml --plan`), not a run.
# Usage: bench/end_to_end.sh [NRMLAB_BINARY]. Prints one JSON line per measurement.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
nrmlab=${1:-$root/build/release/nrmlab}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$nrmlab" "$work" <<'PY'
import json, sqlite3, subprocess, sys, time
nrmlab, work = sys.argv[1], sys.argv[2]
FULL = 3000

def run(preset, steps, extra):
    out = f"{work}/{preset}-{steps}"
    start = time.monotonic()
    subprocess.run([nrmlab, "run", "--experiment", "c256", "--preset", preset, "--source",
                    "synthetic:1", "--steps", str(steps), "--out", out, "-q"] + extra,
                   check=True, capture_output=True)
    wall = time.monotonic() - start
    result = json.load(open(f"{out}/result.json"))
    samples = sum(c["totals"]["metric_samples"] for c in result["conditions"].values())
    share = sqlite3.connect(f"{out}/telemetry.db").execute(
        "SELECT value FROM meta WHERE key = 'recorder_share'").fetchone()[0]
    return wall, samples, float(share)

wall, samples, share = run("clean", FULL, [])
print(json.dumps({"measure": "C256 full size, clean preset (bridge.db: one transaction a step)",
                  "max_agents": 100, "seconds": round(wall, 3),
                  "recorder_share_percent": round(100 * share, 3)}))
for agents in [100, 1000]:
    wall, samples, share = run("clean", FULL, ["--max-agents", str(agents), "--persistence", "off"])
    print(json.dumps({"measure": "C256 full size, clean preset, persistence off (the engine)",
                      "max_agents": agents, "seconds": round(wall, 3),
                      "recorder_share_percent": round(100 * share, 3)}))
PY
