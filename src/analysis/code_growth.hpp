// Which code got slower (issue 19): a differential profile between two sides -- the early
// and late segments the verdict decomposition compares (attribution.hpp: quarters, or either
// side of a change point), or two runs of one program (`nrmlab compare`) -- per step and per
// unit of the run's work.
//
// Why per unit of work. A function's time per step grows when it is handed more work (more
// agents, a longer list) and when the same work costs more (a scan over a history that only
// grows, a cache that stopped fitting). Profilers that diff two time ranges show both as
// "grew". Dividing by the dominant work counter separates them: a function whose time per
// unit is unchanged is "more work", one whose time per unit rose is "dearer". A program that
// reports no work counter cannot be told apart, and says so ("not identifiable", with the
// experiment that would decide).
//
// The unit of resampling is the profile's window (profile.window_ns, 1 s by default): the
// samples carry no step number, so each side is the set of windows its steps span (a window
// belongs to a side when at least half of it lies within the side's steps), and a side's
// figures are sums over its windows -- time in a function over the steps begun in them.
// Intervals come from a moving-block bootstrap over each side's windows, the two resampled
// independently. A function is "dearer" (or "cheaper") when its time per unit changed by
// more than `material` (10%) with a Holm-adjusted one-sided p below 1 - confidence across
// the functions compared (the p from the bootstrap's robust standard error of the log
// ratio), so that twenty functions compared do not give one false "dearer" in three runs.
//
// The change of a function's self time per step splits exactly (midpoint, as the
// attribution's) into more work and dearer work: with u its time per unit and w the work per
// step, u_l w_l - u_e w_e = mean(u) (w_l - w_e) + mean(w) (u_l - u_e).
//
// Limits: every sampled thread counts. A thread that only waits (a pool's idle worker)
// accrues wall time in proportion to the step time, so in a slower run it reads as grown
// ("more time per step"); its wait class says what it did.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "analysis/analysis_result.hpp"
#include "analysis/run_data.hpp"
#include "analysis/thresholds.hpp"
#include "telemetry/profile/profile_data.hpp"

namespace nrmlab::analysis {

// One side of a comparison: the profile windows it covers (ascending) and, per window, the
// steps begun in it, their wall time and their work (empty: no work counter).
struct GrowthSide {
  std::string label;
  std::vector<std::int64_t> windows;
  std::vector<double> steps;
  std::vector<double> wall_ns;
  std::vector<double> work;
};

struct GrowthOptions {
  double confidence = 0.95;
  std::size_t replicates = 199;
  double material = 0.10;         // a change of time per unit below this is "unchanged"
  std::size_t min_windows = 3;    // per side; fewer: "too few windows"
  std::int64_t min_samples = 20;  // a function with fewer (both sides) is never named changed
  std::size_t entries = CodeProfile::k_code_entries;
};

// The condition's dominant work counter: of the counters the cost model prices, the one with
// the largest share of the fitted step time; else a work counter that is present but
// constant (the work did not change); else "" (the run reports none).
std::string dominant_work_counter(const ConditionData& condition, const CostModel* cost);

// The side made of the condition's step rows [first_row, last_row]: the windows of
// `window_ns` those steps span, with every step of the condition begun in each (its wall
// time, and `work_counter` summed when not empty).
GrowthSide growth_side(const ConditionData& condition, std::size_t first_row, std::size_t last_row,
                       std::int64_t window_ns, const std::string& work_counter, std::string label);

// Compares `early` (windows of `early_data`) with `late` (of `late_data`; the same profile
// for one run). Fills the comparison's figures and status and returns the functions that
// contribute most to the change of step time, largest first. `comparison.work_counter`
// names the counter the sides' work is of.
std::vector<CodeGrowth> compare_code(const telemetry::profile::ProfileData& early_data,
                                     const GrowthSide& early,
                                     const telemetry::profile::ProfileData& late_data,
                                     const GrowthSide& late, const GrowthOptions& options,
                                     CodeComparison& comparison);

// For `analyze`: one comparison per condition that has an attribution with segments, of
// those segments; appended to code.comparisons and code.growth.
void add_code_growth(const RunData& run, const SoundAnalysis& sound,
                     const telemetry::profile::ProfileData& data, const Thresholds& thresholds,
                     CodeProfile& code);

// The ten-second summary's line for the largest contribution to a slowdown, among the
// conditions that got `slower` (their drift): "92% of the slowdown is in scan_history (self
// time per step x5.3, work constant): dearer"; when none of them could be compared, why
// ("not compared: too few windows ..."); empty when no condition got slower.
std::string growth_line(const CodeProfile& code, const std::vector<std::string>& slower);

}  // namespace nrmlab::analysis
