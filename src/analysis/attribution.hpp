// The slowdown attribution: how much of a condition's change in step time is more work and
// how much is the same work costing more. (decompose() in sound_mode.hpp splits time into
// sections; this splits a *change* of time.)
//
// An early and a late segment are compared: the first and last quarter of the condition's
// steps, or, when its step time shifts level at a change point, the steps before and after
// it. Each section's time per step is `a + sum_k c_k W_k`: a per-step constant plus unit
// costs c_k times the work counters W_k. With c_k the unit costs of the two segments
// together,
//
//   late - early = sum c dW                  "more work"
//                + the rest                  "the same work costs more" (da, dc)
//
// per section (the whole step, compute, database, sampling, window, recorder, and the time
// spent waiting for a CPU when it was recorded). Where a unit cost did change, the pooled c
// is close to the two segments' average, so this is the midpoint (Shapley) split: the
// interaction of more work and dearer work is shared equally and no third term remains.
// (Separate per-segment costs would give a three-way split, but counters that move together
// inside one segment -- agents and the pairs among them -- make those costs unstable.)
//
// Why unit costs come from step-to-step differences. Fitting time on counters over the
// segment cannot tell a counter that grows (and costs nothing) from a unit cost that grows
// over the same steps: both are a trend. First differences remove any smooth trend, so c_k
// is estimated only from how time moves when the counter moves from one step to the next
// (NNLS of centred differences of time on centred differences of the counters). A counter
// that never varies step to step (constant, or an exact line) has no identifiable cost, and
// one whose growth could be priced only to within more than a quarter of the change (one
// standard error: growth many times its step-to-step moves, against noisy step times) would
// be priced by extrapolation (chance correlation, multiplied by its growth, was charged up
// to twice a slowdown it had no part in). Neither enters the fit: if such a counter's level
// changes between the segments, the run cannot separate more work from dearer work for
// it, and it is listed in `unidentified` -- the hypotheses then say "not identifiable from
// this run" (unless the priced work already explains the change) and name the experiment
// that would decide.
//
// Intervals: a moving-block bootstrap over the (block-averaged) steps of each segment,
// resampling the two segments independently and re-estimating the unit costs each time.
#pragma once

#include <string_view>

#include "analysis/analysis_result.hpp"
#include "analysis/run_data.hpp"
#include "analysis/thresholds.hpp"

namespace nrmlab::analysis {

// Conditions with fewer steps get an attribution with NaN figures. 16 steps make segments of
// 4; the error rates there (tests/analysis_short_run_test.cpp) are those of a long run, with
// wider intervals: a program marked 20 times (its first step left out as start-up) is judged.
inline constexpr std::size_t k_min_attribution_steps = 16;

// The per-step run-queue delay column: time runnable but waiting for a CPU (schedstat), read
// on the getrusage cadence. NaN throughout in telemetry recorded before it existed.
inline constexpr std::string_view k_runq_column = "runq_ns";
// A watched program's read/write system calls per step (telemetry_reader.cpp); where it is,
// the attribution also compares the "off_cpu" section (its waits off the CPU).
inline constexpr std::string_view k_io_work_column = "io.syscalls";

// Spreads a column read on the getrusage cadence (the value at a row with usage_steps = n
// covers the n steps ending there) evenly over the steps it covers; NaN where no reading
// covers a step. Empty when the column is absent.
std::vector<double> per_step_from_readings(const Columns& steps, std::string_view column);

// The run-queue delay of a condition's steps as a share of their wall time: the readings'
// waits over the wall time of the steps they cover (readings that cover steps before the
// first row are left out). NaN when no reading recorded it. H1's materiality and the
// validation's disturbance check both use it.
double cpu_wait_share(const Columns& steps);

Attribution attribute_change(const ConditionData& condition, const Drift& drift,
                             const Thresholds& thresholds);

// The section of an attribution by name ("step", "database", "cpu_wait", ...), or nullptr.
const SectionChange* find_section(const Attribution& attribution, std::string_view section);

}  // namespace nrmlab::analysis
