#!/usr/bin/env bash
# The report end to end, in a real browser (ctest: report_e2e, label e2e).
#
# usage: run_report_e2e.sh NRMLAB_BINARY WORK_DIR
#
# 1. A tiny study whose description, factor name and factor-level labels carry hostile
#    markup, written to a directory whose path carries some too: nrmlab study, nrmlab
#    report, then report_e2e.mjs with --expect-no-markup-execution (the page must show the
#    markup as text and run none of it).
# 2. A single run: nrmlab run, stack samples like the seed's C256 program written into its
#    telemetry.db in short profile windows, one function growing step by step (a function
#    name carries markup), nrmlab analyze (its code comparison must be made and name the
#    growing function first), nrmlab report, report_e2e.mjs --expect-flame-graph
#    --expect-differential.
# The screenshots stay in WORK_DIR (report.png, single.png). Needs node, npm ci's
# node_modules (playwright-core), python3 (its sqlite3 module writes the samples) and
# /usr/bin/chromium (make test installs all four).
set -euo pipefail

if (($# != 2)); then
  echo "usage: $0 NRMLAB_BINARY WORK_DIR" >&2
  exit 2
fi
nrmlab=$(realpath "$1")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
e2e=$here/report_e2e.mjs
[[ -x "$nrmlab" ]] || { echo "report_e2e: $nrmlab is not an executable" >&2; exit 1; }
command -v node >/dev/null || { echo "report_e2e: node is missing (make test installs it)" >&2; exit 1; }

rm -rf -- "$2"
mkdir -p -- "$2"
work=$(cd -- "$2" && pwd)

now_ms() { echo $(($(date +%s%N) / 1000000)); }
# step NAME COMMAND...: runs COMMAND, prints how long it took, stops the test if it fails.
step() {
  local name=$1
  shift
  local start
  start=$(now_ms)
  if "$@"; then
    echo "report_e2e: $name ok ($(($(now_ms) - start)) ms)"
  else
    local status=$?
    echo "report_e2e: $name FAILED (exit status $status, $(($(now_ms) - start)) ms)" >&2
    exit 1
  fi
}
exists() {
  [[ -s "$1" ]] || { echo "report_e2e: $1 was not written" >&2; return 1; }
}

# --- 1. a study with hostile markup ----------------------------------------------------
# Study names must be letters, digits, '-', '_', '.' (src/study/study_file.cpp), so the
# markup goes into the description, a compound factor's name and its levels' labels, and
# the output directory's path. Every payload either sets window.__nrmlab_xss, creates an
# element with id nrmlab-injected, or opens a dialog if the page ever treats it as markup.
study_file=$work/hostile.toml
cat >"$study_file" <<'EOF'
[study]
name = "e2e-hostile"
description = "x<img src=x onerror=\"window.__nrmlab_xss=1\"> </script><script>window.__nrmlab_xss=2</script> <b id=\"nrmlab-injected\">bold</b> <!-- ]]> </style><svg onload=\"alert(1)\"> & &amp; &lt;"
replicates = 2
seed = 7

[run]
experiment = "c256"
source = "synthetic"
steps = 30
max_agents = 6

[factors]
"storage<img src=x onerror=\"window.__nrmlab_xss=3\">" = [
  { label = "off<img src=x onerror=\"window.__nrmlab_xss=4\">", persistence = "off" },
  { label = "txn</script><script>window.__nrmlab_xss=5</script><b id=\"nrmlab-injected\">", persistence = "transaction-per-step" },
]
EOF
# '/' cannot be in a file name, so no closing tags here.
study_dir=$work/'study <b id="nrmlab-injected"> & <img src=x onerror="window.__nrmlab_xss=6">'

step "study (4 runs)" "$nrmlab" study "$study_file" --out "$study_dir" -q
step "report (study)" "$nrmlab" report "$study_dir"
step "report.html (study) exists" exists "$study_dir/report.html"
step "browser (study)" node "$e2e" "$study_dir/report.html" "$work/report.png" \
  --expect-no-markup-execution
echo "report_e2e: screenshot $work/report.png"

# --- 2. a single run -------------------------------------------------------------------
single=$work/single
step "run (single)" "$nrmlab" run --steps 40 --source synthetic --out "$single" --quiet
# The tables and meta keys of src/telemetry/profile/profile_data.hpp (ids after any stored).
# The samples tell a story the differential flame graph can show (src/analysis/code_growth.cpp):
# per step of every condition, scan_history (under main, on the CPU) grows from 1 to 61 ms
# while cpu_percent's sleep, compute and the function with markup in its name stay constant
# and commit_row's fdatasync (disk) shrinks from 3 to 0.5 ms. Each step's samples are spread
# over the profile windows its [t_ns, t_ns + wall_ns) overlaps, and the windows are short
# enough that the first and the last quarter of every condition span at least 8 of them (a
# comparison needs 3 a side). The run's own step times are mostly fsync noise, so the sign of
# their early-to-late change is a coin toss, and a function's share of the change (what the
# growth table ranks by) is its change over the step time's: scan_history's time is added to
# its steps (wall_ns, and t_ns shifted after it), as a program whose scan grew would show
# (the side streams keep their times: the report only draws them).
# What the machine sampled itself is dropped: its window numbers are of the profiler's window
# length, not of the one written here.
plant_profile() {
  python3 - "$1" <<'PY'
import sqlite3, sys
from collections import defaultdict
db = sqlite3.connect(sys.argv[1])
ms = 1000000
steps = db.execute("SELECT condition, step, t_ns, wall_ns FROM steps "
                   "WHERE t_ns IS NOT NULL AND wall_ns IS NOT NULL ORDER BY t_ns").fetchall()
if not steps:
    sys.exit("plant_profile: the run recorded no steps with t_ns and wall_ns")
count = defaultdict(int)
for condition, _, _, _ in steps:
    count[condition] += 1
def position(condition, step):  # 0 at a condition's first step, 1 at its last
    return step / max(1, count[condition] - 1)
def scan_ns(condition, step):
    return int((1 + 60 * position(condition, step)) * ms)
# Add scan_history's time to each step and shift what follows.
shift = 0
timeline = []
for condition, step, t, wall in steps:
    t, wall = t + shift, wall + scan_ns(condition, step)
    shift += scan_ns(condition, step)
    timeline.append((condition, step, t, wall))
    db.execute("UPDATE steps SET t_ns = ?, wall_ns = ? WHERE condition = ? AND step = ?",
               (t, wall, condition, step))
# The window: an eighth of the shortest quarter of any condition's steps, at least 1 ms.
quarters = []
for condition in count:
    rows = [r for r in timeline if r[0] == condition]
    q = max(1, len(rows) // 4)
    for side in (rows[:q], rows[-q:]):
        quarters.append(side[-1][2] + side[-1][3] - side[0][2])
window_ns = max(ms, min(quarters) // 8)

frame0 = db.execute("SELECT coalesce(max(id), 0) FROM profile_frames").fetchone()[0]
stack0 = db.execute("SELECT coalesce(max(id), 0) FROM profile_stacks").fetchone()[0]
frames = [("main", "prog"), ("run_step", "prog"), ("cpu_percent", "prog"),
          ("clock_nanosleep", "libc.so.6"), ("commit_row", "prog"), ("fdatasync", "libc.so.6"),
          ("compute", "prog"), ('operator<< <img src=x onerror="window.__nrmlab_xss=7">', "prog"),
          ("scan_history", "prog")]
for i, (function, module) in enumerate(frames):
    db.execute("INSERT INTO profile_frames (id, function, module, address) VALUES (?, ?, ?, 0)",
               (frame0 + i + 1, function, module))
# (parent, frame) of stacks 1, 2, ... in this order
stacks = [(0, 1), (1, 2), (2, 3), (3, 4), (2, 5), (5, 6), (2, 7), (7, 8), (1, 9)]
for i, (parent, frame) in enumerate(stacks):
    db.execute("INSERT INTO profile_stacks (id, parent, frame) VALUES (?, ?, ?)",
               (stack0 + i + 1, stack0 + parent if parent else 0, frame0 + frame))
# (stack, wait class, ns per step at position p)
per_step = [(4, "sleep", lambda p: 9 * ms), (4, "run_queue", lambda p: ms // 2),
            (6, "disk", lambda p: int((3 - 2.5 * p) * ms)), (7, "on_cpu", lambda p: 4 * ms),
            (8, "on_cpu", lambda p: ms), (9, "on_cpu", None)]
weights = defaultdict(float)
for condition, step, t, wall in timeline:
    for stack, wait, cost in per_step:
        ns = scan_ns(condition, step) if cost is None else cost(position(condition, step))
        for window in range(t // window_ns, (t + wall - 1) // window_ns + 1):
            overlap = min(t + wall, (window + 1) * window_ns) - max(t, window * window_ns)
            weights[(window, stack, wait)] += ns * overlap / wall
db.execute("DELETE FROM profile_counts")
period_ns = 10101010  # 99 Hz
for (window, stack, wait), weight in sorted(weights.items()):
    db.execute("INSERT INTO profile_counts (window, stack, wait, samples, weight_ns) "
               "VALUES (?, ?, ?, ?, ?)",
               (window, stack0 + stack, wait, max(1, round(weight / period_ns)), round(weight)))
db.execute("DELETE FROM meta WHERE key IN ('profile.status', 'profile.enable_hint', "
           "'profile.window_ns')")
db.execute("INSERT INTO meta (key, value) VALUES ('profile.status', 'sampled')")
db.execute("INSERT INTO meta (key, value) VALUES ('profile.window_ns', ?)", (str(window_ns),))
db.commit()
print(f"plant_profile: {len(weights)} counts in windows of {window_ns / ms:.1f} ms")
PY
}
step "stack samples (single)" plant_profile "$single/telemetry.db"
step "analyze (single)" "$nrmlab" analyze "$single" --quiet
# What the browser is to find: the first condition compared, scan_history first among the
# functions whose time changed.
check_growth() {
  python3 - "$1" <<'PY'
import json, sys
runs = json.load(open(sys.argv[1])).get("runs") or [{}]
code = runs[0].get("code") or {}
comparisons, growth = code.get("comparisons") or [], code.get("growth") or []
if not comparisons or comparisons[0].get("status") != "compared":
    sys.exit("check_growth: runs[0].code.comparisons[0] is not compared: " +
             json.dumps(comparisons[0] if comparisons else None)[:500])
c = comparisons[0]
if not growth or growth[0].get("function") != "scan_history":
    sys.exit(f"check_growth: runs[0].code.growth[0] is {growth[0].get('function') if growth else None}, "
             f"not scan_history (step {c.get('step_ms_early')} -> {c.get('step_ms_late')} ms): " +
             json.dumps(growth[:3])[:800])
g = growth[0]
print(f"check_growth: {c['condition']}: windows {c['early_first_window']}-"
      f"{c['early_last_window']} against {c['late_first_window']}-{c['late_last_window']}, "
      f"scan_history {1e3 * g['self_per_step_early']:.3g} -> "
      f"{1e3 * g['self_per_step_late']:.3g} ms per step, {100 * g['share_of_change']:.0f}% "
      "of the change")
PY
}
step "code growth (single)" check_growth "$single/analysis.json"
step "report (single)" "$nrmlab" report "$single"
step "report.html (single) exists" exists "$single/report.html"
step "browser (single)" node "$e2e" "$single/report.html" "$work/single.png" \
  --expect-no-markup-execution --expect-flame-graph --expect-differential
echo "report_e2e: screenshot $work/single.png"
