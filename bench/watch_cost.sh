#!/usr/bin/env bash
# What `nrmlab watch` costs (issue 7), end to end on this machine:
#   * sampling at 10 Hz: nrmlab's own CPU while it watches `sleep`, as a share of one core
#     (the difference between an 11 s and a 1 s watch, so start-up and shutdown cancel);
#   * markers: a program that prints 1,000,000 markers (3 counters each) as fast as it can;
#     nrmlab parses them and writes 1,000,000 step rows and 3,000,000 counter rows.
# Usage: bench/watch_cost.sh [NRMLAB_BINARY]. Prints one JSON line per measurement.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
nrmlab=${1:-$root/build/release/nrmlab}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$nrmlab" "$work" <<'PY'
import json, resource, subprocess, sys, time
nrmlab, work = sys.argv[1], sys.argv[2]

def watch(args):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    subprocess.run([nrmlab, "watch", "--out", f"{work}/run", "--no-analysis", "--stdout",
                    "/dev/null", "--"] + args, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return time.monotonic() - start, cpu

shares = []
for _ in range(3):
    w1, c1 = watch(["sleep", "1"])
    w2, c2 = watch(["sleep", "11"])
    shares.append(100.0 * (c2 - c1) / (w2 - w1))
shares.sort()
print(json.dumps({"measure": "watch at 10 Hz", "percent_of_one_core_median": round(shares[1], 3),
                  "runs": [round(s, 3) for s in shares]}))

# The producer (seq | sed, block-buffered) alone takes about 0.3 s here.
wall, _ = watch(["sh", "-c", "seq 1000000 | sed 's/.*/NRMLAB step=& a=& b=2 c=3/'"])
print(json.dumps({"measure": "1,000,000 markers end to end", "seconds": round(wall, 2),
                  "markers_per_second": round(1e6 / wall)}))
PY
