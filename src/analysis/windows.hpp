// Splitting a condition's series into windows and thinning long series, so that the
// quadratic-cost statistics (Theil-Sen) and the change-point search stay fast on a
// million steps while the linear-cost ones (HAC, Mann-Kendall) see every step.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace nrmlab::analysis {

struct Window {
  std::size_t begin = 0;  // [begin, end) indices into the series
  std::size_t end = 0;
};

// At most `count` contiguous windows of near-equal size, each with at least `min_size`
// elements (fewer windows when the series is short; one window at least when n > 0).
std::vector<Window> split_windows(std::size_t n, std::size_t count, std::size_t min_size);

// The series reduced to at most `max_points` block medians; `positions` receives the mean
// of `x` in each block. A series already short enough is returned unchanged.
std::vector<double> block_medians(std::span<const double> x, std::span<const double> y,
                                  std::size_t max_points, std::vector<double>& positions);

// The pairs where both values are finite (telemetry marks absent readings as NaN).
void finite_pairs(std::span<const double> x, std::span<const double> y, std::vector<double>& fx,
                  std::vector<double>& fy);

double sum_of(std::span<const double> values);  // NaN entries skipped

}  // namespace nrmlab::analysis
