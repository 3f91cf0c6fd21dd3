// What the hypothesis tests share: aligned series for partial correlations, the
// correlation test itself, and the relative trend of a side stream.
#pragma once

#include <span>
#include <string>
#include <utility>
#include <vector>

#include "analysis/hypothesis_registry.hpp"

namespace nrmlab::analysis::evidence {

inline constexpr double k_nan = std::numeric_limits<double>::quiet_NaN();
// Fewer readings than this make no test.
inline constexpr std::size_t k_min_points = 10;

Outcome untestable(std::string reason);
std::string format_p(double p);  // "0.012", or "n/a"

// The mean of `values` over the steps numbered first..last (NaN values skipped; NaN when
// none): a counter's level in one of the attribution's segments.
double mean_over_steps(const Columns& steps, std::span<const double> values, std::int64_t first,
                       std::int64_t last);

// A section's "the same work costing more" relative to its early level (effect and
// interval; NaN when the early level is not positive) and its p, as an outcome's figures.
void set_relative_dearer(const SectionChange& section, Outcome& o);

// The step time grows within the condition: the drift test's trend upwards, or a level shift
// up. A mechanism of a slowdown (H3, H5) is supported only where there is one: comparing two
// segments of a run that does not slow down finds, now and then, a segment that a burst of
// the device's latency made dearer (fsync, a ring journal: H3 "supported" in 23 of 690 runs
// with the drift test "stable" in 20 of them).
bool step_time_grows(const Drift& drift);

// Index of the step row with step number `step` (steps ascend within a condition).
std::size_t step_index(std::span<const double> steps, double step);

// Aligned series for a partial correlation: the indicator, the step time over the same
// steps, and the controls (step index and agents).
// Readings that fall in the same step (side samples faster than the steps) are averaged
// into one point: they share one step time, and pairing each with it would count the same
// evidence many times over (pseudo-replication).
struct Aligned {
  std::vector<double> indicator, step_time, step, agents;
  void add(double value, double time, double at_step, double agent_count);

 private:
  double m_readings_in_last = 0;
};

// Partial Spearman of an indicator with step time, controlling for step and agents;
// positive when the indicator goes with slower steps. `sign` = -1 for indicators whose
// *fall* should slow steps (CPU frequency).
Outcome correlate(const std::string& what, const Aligned& a, const Thresholds& t, double sign = 1);

// Change of a series over its span, relative to its start (Theil-Sen line on at most 1000
// block medians), and Mann-Kendall's p. NaN when fewer than k_min_points are finite.
std::pair<double, double> relative_trend(std::span<const double> x, std::span<const double> y);

}  // namespace nrmlab::analysis::evidence
