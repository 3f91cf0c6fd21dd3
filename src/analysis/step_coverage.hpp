// What a watched program's steps let the analysis see (issue 20): how much of the program's
// time they cover, and, when it marked no steps at all, what the fixed time windows standing
// in for them still show. A verdict about slowdown per step needs steps; a run whose steps
// cover 0.1% of its time, or that has none, must say so instead of reading as complete.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "analysis/analysis_result.hpp"
#include "analysis/run_data.hpp"

namespace nrmlab::analysis {

// argv[0]'s file name from the watch's meta (`watch.command`, a JSON array); empty for a
// native run or a program attached to by pid.
std::string watched_program(const RunData& run);

// The program's time (meta `watch.duration_ns`), the analysed steps' (their wall time), the
// start-up step left out (RunData::startup_ns) and the tail after the last marker (meta
// `steps.tail_ns`). Every figure NaN for an engine run.
StepCoverage step_coverage(const RunData& run);

// For time windows: the per-window proxies the program's telemetry holds (CPU time, syscalls,
// bytes read and written, voluntary context switches), each over the whole run.
std::vector<WindowProxy> window_proxies(const RunData& run);

// How to mark a step in the program's language (told by its name: python3, Rscript, bash,
// julia, node, ...; a native program gets C's), one line to put at the end of each step.
std::string marker_example(std::string_view program);

}  // namespace nrmlab::analysis
