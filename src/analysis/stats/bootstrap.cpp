#include "analysis/stats/bootstrap.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "analysis/stats/descriptive.hpp"
#include "util/numeric.hpp"

namespace nrmlab::analysis::stats {
namespace {

std::size_t checked_block_length(std::size_t n, const BootstrapOptions& options,
                                 const char* function) {
  if (n < 2) throw std::invalid_argument(std::string(function) + ": needs at least 2 points");
  if (options.replicates == 0)
    throw std::invalid_argument(std::string(function) + ": no replicates");
  if (!(options.confidence > 0.0 && options.confidence < 1.0))
    throw std::invalid_argument(std::string(function) + ": confidence is outside (0, 1)");
  const std::size_t length = options.block_length.value_or(default_block_length(n));
  if (length == 0 || length > n)
    throw std::invalid_argument(std::string(function) + ": block length is 0 or exceeds n");
  return length;
}

// Uniform on 0..bound by rejection on the engine's raw output: std::uniform_int_distribution
// is implementation-defined, so it would tie the resamples to one standard library, while
// mt19937_64's output is fixed by the standard.
std::size_t uniform_index(std::mt19937_64& engine, std::uint64_t bound) {
  const std::uint64_t range = bound + 1;  // bound < n, so no overflow
  const std::uint64_t limit =
      std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % range;
  std::uint64_t draw = engine();
  while (draw >= limit)
    draw = engine();
  return static_cast<std::size_t>(draw % range);
}

// Calls fill(start, offset, count) for each block of one replicate: copy `count` points
// from `start` of the original series to `offset` of the replicate.
template <typename Fill>
void draw_blocks(std::size_t n, std::size_t length, std::mt19937_64& engine, Fill fill) {
  for (std::size_t offset = 0; offset < n; offset += length)
    fill(uniform_index(engine, n - length), offset, std::min(length, n - offset));
}

BootstrapInterval percentile_interval(double estimate, std::vector<double> statistics,
                                      std::size_t length, double confidence) {
  std::erase_if(statistics, [](double v) { return std::isnan(v); });
  BootstrapInterval interval{estimate, k_nan, k_nan, length, statistics.size()};
  if (statistics.empty()) return interval;
  interval.low = quantile(statistics, 0.5 - 0.5 * confidence);
  interval.high = quantile(statistics, 0.5 + 0.5 * confidence);
  return interval;
}

// sxy / sxx of the centred pairs; NaN when x is constant.
double slope(std::span<const double> x, std::span<const double> y) {
  const auto n = static_cast<double>(x.size());
  double mean_x = 0.0, mean_y = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    mean_x += x[i];
    mean_y += y[i];
  }
  mean_x /= n;
  mean_y /= n;
  double sxy = 0.0, sxx = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mean_x) * (y[i] - mean_y);
    sxx += (x[i] - mean_x) * (x[i] - mean_x);
  }
  return sxx > 0.0 ? sxy / sxx : k_nan;
}

}  // namespace

std::vector<std::size_t> block_resample(std::size_t n, std::size_t length,
                                        std::mt19937_64& engine) {
  if (n == 0 || length == 0 || length > n)
    throw std::invalid_argument("block_resample: n is 0, or the block length is 0 or exceeds n");
  std::vector<std::size_t> out(n);
  draw_blocks(n, length, engine, [&](std::size_t start, std::size_t offset, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i)
      out[offset + i] = start + i;
  });
  return out;
}

std::size_t default_block_length(std::size_t n) {
  return std::max<std::size_t>(
      1, static_cast<std::size_t>(std::llround(std::cbrt(static_cast<double>(n)))));
}

BootstrapInterval block_bootstrap_ci(std::span<const double> series, const Statistic& statistic,
                                     const BootstrapOptions& options) {
  const std::size_t n = series.size();
  const std::size_t length = checked_block_length(n, options, "block_bootstrap_ci");
  std::mt19937_64 engine(options.seed);
  std::vector<double> replicate(n), statistics(options.replicates);
  for (double& value : statistics) {
    draw_blocks(n, length, engine, [&](std::size_t start, std::size_t offset, std::size_t count) {
      std::copy_n(series.begin() + static_cast<std::ptrdiff_t>(start), count,
                  replicate.begin() + static_cast<std::ptrdiff_t>(offset));
    });
    value = statistic(replicate);
  }
  return percentile_interval(statistic(series), std::move(statistics), length, options.confidence);
}

BootstrapInterval block_bootstrap_slope_ci(std::span<const double> x, std::span<const double> y,
                                           const BootstrapOptions& options) {
  if (x.size() != y.size())
    throw std::invalid_argument("block_bootstrap_slope_ci: x and y differ in length");
  const std::size_t n = x.size();
  const std::size_t length = checked_block_length(n, options, "block_bootstrap_slope_ci");
  std::mt19937_64 engine(options.seed);
  std::vector<double> replicate_x(n), replicate_y(n), statistics(options.replicates);
  for (double& value : statistics) {
    draw_blocks(n, length, engine, [&](std::size_t start, std::size_t offset, std::size_t count) {
      const auto from = static_cast<std::ptrdiff_t>(start);
      const auto to = static_cast<std::ptrdiff_t>(offset);
      std::copy_n(x.begin() + from, count, replicate_x.begin() + to);
      std::copy_n(y.begin() + from, count, replicate_y.begin() + to);
    });
    value = slope(replicate_x, replicate_y);
  }
  return percentile_interval(slope(x, y), std::move(statistics), length, options.confidence);
}

}  // namespace nrmlab::analysis::stats
