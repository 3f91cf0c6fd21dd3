#include "analysis/windows.hpp"

#include <algorithm>
#include <cmath>

#include "analysis/stats/descriptive.hpp"

namespace nrmlab::analysis {

std::vector<Window> split_windows(std::size_t n, std::size_t count, std::size_t min_size) {
  if (n == 0) return {};
  count = std::max<std::size_t>(1, std::min(count, n / std::max<std::size_t>(1, min_size)));
  std::vector<Window> windows;
  for (std::size_t w = 0; w < count; ++w)
    windows.push_back({n * w / count, n * (w + 1) / count});
  return windows;
}

std::vector<double> block_medians(std::span<const double> x, std::span<const double> y,
                                  std::size_t max_points, std::vector<double>& positions) {
  positions.clear();
  if (y.size() <= max_points) {
    positions.assign(x.begin(), x.end());
    return {y.begin(), y.end()};
  }
  std::vector<double> medians;
  for (const Window& w : split_windows(y.size(), max_points, 1)) {
    const auto size = static_cast<std::ptrdiff_t>(w.end - w.begin);
    const auto ys = y.subspan(w.begin, static_cast<std::size_t>(size));
    medians.push_back(stats::median(ys));
    double position = 0.0;
    for (std::size_t i = w.begin; i < w.end; ++i)
      position += x[i];
    positions.push_back(position / static_cast<double>(size));
  }
  return medians;
}

void finite_pairs(std::span<const double> x, std::span<const double> y, std::vector<double>& fx,
                  std::vector<double>& fy) {
  fx.clear();
  fy.clear();
  for (std::size_t i = 0; i < std::min(x.size(), y.size()); ++i)
    if (std::isfinite(x[i]) && std::isfinite(y[i])) {
      fx.push_back(x[i]);
      fy.push_back(y[i]);
    }
}

double sum_of(std::span<const double> values) {
  double total = 0.0;
  for (const double v : values)
    if (std::isfinite(v)) total += v;
  return total;
}

}  // namespace nrmlab::analysis
