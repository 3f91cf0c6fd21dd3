#!/usr/bin/env bash
# End-to-end engine figures (issue 8): the whole C256 at its original size (4 conditions x
# 3,000 steps) under the clean preset (its bridge.db takes a row per pair checked), then
# the engine alone (persistence off) at the original 100 agents and at 1,000, each with the
# recorder's share of wall time. The other presets write a database connection per row and
# sleep 100 ms per sample: at full size they take hours to days, so each preset is measured
# over the first PROBE_STEPS steps of every condition (live source: the sampler really
# blocks), and its full-size figure is the study planner's estimate (`nrmlab study ...
# --plan`), not a run.
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
PROBE_STEPS = 3
PRESETS = ["as-run", "optimized-as-run", "optimized-as-intended", "clean"]

def run(preset, steps, extra, source="synthetic:1"):
    out = f"{work}/{preset}-{steps}"
    start = time.monotonic()
    subprocess.run([nrmlab, "run", "--experiment", "c256", "--preset", preset, "--source",
                    source, "--steps", str(steps), "--out", out, "-q"] + extra,
                   check=True, capture_output=True)
    wall = time.monotonic() - start
    result = json.load(open(f"{out}/result.json"))
    samples = sum(c["totals"]["metric_samples"] for c in result["conditions"].values())
    share = sqlite3.connect(f"{out}/telemetry.db").execute(
        "SELECT value FROM meta WHERE key = 'recorder_share'").fetchone()[0]
    return wall, samples, float(share)

def planned_seconds():
    """The planner's full-size estimate of C256 under each preset, from `--plan`'s table."""
    study = f"{work}/presets.toml"
    with open(study, "w") as f:
        f.write('[study]\nname = "presets"\nreplicates = 1\n'
                f'[run]\nexperiment = "c256"\nsource = "live"\nsteps = {FULL}\nmax_agents = 100\n'
                "[factors]\npreset = [" + ", ".join(f'"{p}"' for p in PRESETS) + "]\n")
    text = subprocess.run([nrmlab, "study", study, "--plan", "--out", f"{work}/plan"], check=True,
                          capture_output=True, text=True).stdout
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    estimates = {}
    for line in text.splitlines():
        words = line.split()
        level = next((w.split("=", 1)[1] for w in words if w.startswith("preset=")), None)
        if level is None or len(words) < 6:
            continue
        seconds, number = 0.0, ""
        for char in words[5]:  # the estimate column, e.g. 5d22h or 1m30s
            if char.isdigit() or char == ".":
                number += char
            else:
                seconds += float(number) * units[char]
                number = ""
        estimates[level] = seconds
    missing = [p for p in PRESETS if p not in estimates]
    if missing:
        sys.exit(f"end_to_end.sh: `nrmlab study --plan` gave no estimate for {missing}:\n{text}")
    return estimates

estimates = planned_seconds()
for preset in PRESETS:
    wall, samples, share = run(preset, PROBE_STEPS, [], source="live")
    measure = f"C256, {preset} preset, first {PROBE_STEPS} steps of each condition (live)"
    print(json.dumps({"measure": measure, "max_agents": 100, "seconds": round(wall, 3),
                      "metric_samples": samples,
                      "planned_full_size_seconds": round(estimates[preset])}))

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
