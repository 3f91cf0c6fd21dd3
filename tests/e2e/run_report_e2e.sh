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
#    telemetry.db (whatever the machine let the run sample; a function name carries
#    markup), nrmlab analyze, nrmlab report, report_e2e.mjs --expect-flame-graph.
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
plant_profile() {
  python3 - "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
frame0 = db.execute("SELECT coalesce(max(id), 0) FROM profile_frames").fetchone()[0]
stack0 = db.execute("SELECT coalesce(max(id), 0) FROM profile_stacks").fetchone()[0]
frames = [("main", "prog"), ("run_step", "prog"), ("cpu_percent", "prog"),
          ("clock_nanosleep", "libc.so.6"), ("commit_row", "prog"), ("fdatasync", "libc.so.6"),
          ("compute", "prog"), ('operator<< <img src=x onerror="window.__nrmlab_xss=7">', "prog")]
for i, (function, module) in enumerate(frames):
    db.execute("INSERT INTO profile_frames (id, function, module, address) VALUES (?, ?, ?, 0)",
               (frame0 + i + 1, function, module))
# (parent, frame) of stacks 1, 2, ... in this order
stacks = [(0, 1), (1, 2), (2, 3), (3, 4), (2, 5), (5, 6), (2, 7), (7, 8)]
for i, (parent, frame) in enumerate(stacks):
    db.execute("INSERT INTO profile_stacks (id, parent, frame) VALUES (?, ?, ?)",
               (stack0 + i + 1, stack0 + parent if parent else 0, frame0 + frame))
ms = 1000000
for stack, wait, weight in [(4, "sleep", 900 * ms), (6, "disk", 50 * ms), (7, "on_cpu", 40 * ms),
                            (8, "on_cpu", 10 * ms), (4, "run_queue", 5 * ms)]:
    db.execute("INSERT INTO profile_counts (window, stack, wait, samples, weight_ns) "
               "VALUES (0, ?, ?, 1, ?)", (stack0 + stack, wait, weight))
db.execute("DELETE FROM meta WHERE key IN ('profile.status', 'profile.enable_hint')")
db.execute("INSERT INTO meta (key, value) VALUES ('profile.status', 'sampled')")
db.commit()
PY
}
step "stack samples (single)" plant_profile "$single/telemetry.db"
step "analyze (single)" "$nrmlab" analyze "$single" --quiet
step "report (single)" "$nrmlab" report "$single"
step "report.html (single) exists" exists "$single/report.html"
step "browser (single)" node "$e2e" "$single/report.html" "$work/single.png" \
  --expect-no-markup-execution --expect-flame-graph
echo "report_e2e: screenshot $work/single.png"
