#include "report/downsample.hpp"

#include <cmath>

namespace nrmlab::report {

std::vector<std::size_t> lttb_indices(std::span<const double> x, std::span<const double> y,
                                      std::size_t budget) {
  const std::size_t n = std::min(x.size(), y.size());
  std::vector<std::size_t> kept;
  if (n <= budget || n <= 2) {
    kept.resize(n);
    for (std::size_t i = 0; i < n; ++i)
      kept[i] = i;
    return kept;
  }
  if (budget < 3) return {0, n - 1};

  // Points 1..n-2 fall into budget-2 buckets; each bucket keeps the point that makes the
  // largest triangle with the point kept before it and the mean of the next bucket.
  const double bucket = static_cast<double>(n - 2) / static_cast<double>(budget - 2);
  const auto bucket_begin = [&](std::size_t b) {
    return 1 + static_cast<std::size_t>(std::floor(static_cast<double>(b) * bucket));
  };
  kept.reserve(budget);
  kept.push_back(0);
  std::size_t previous = 0;
  for (std::size_t b = 0; b + 2 < budget; ++b) {
    const std::size_t begin = bucket_begin(b);
    const std::size_t end = std::min(bucket_begin(b + 1), n - 1);
    // The next bucket's centroid (the last point for the last bucket).
    const std::size_t next_begin = end;
    const std::size_t next_end = b + 3 < budget ? std::min(bucket_begin(b + 2), n - 1) : n;
    double mean_x = 0.0, mean_y = 0.0;
    std::size_t count = 0;
    for (std::size_t i = next_begin; i < std::max(next_end, next_begin + 1) && i < n; ++i) {
      if (std::isnan(x[i]) || std::isnan(y[i])) continue;
      mean_x += x[i];
      mean_y += y[i];
      ++count;
    }
    if (count > 0) {
      mean_x /= static_cast<double>(count);
      mean_y /= static_cast<double>(count);
    } else {
      mean_x = x[previous];
      mean_y = y[previous];
    }
    std::size_t chosen = begin;
    double largest = -1.0;
    for (std::size_t i = begin; i < end; ++i) {
      if (std::isnan(x[i]) || std::isnan(y[i])) continue;
      const double area = std::abs((x[previous] - mean_x) * (y[i] - y[previous]) -
                                   (x[previous] - x[i]) * (mean_y - y[previous]));
      if (area > largest) {
        largest = area;
        chosen = i;
      }
    }
    if (begin < end) {
      kept.push_back(chosen);
      previous = chosen;
    }
  }
  kept.push_back(n - 1);
  return kept;
}

std::vector<double> pick(std::span<const double> values, std::span<const std::size_t> indices) {
  std::vector<double> out;
  out.reserve(indices.size());
  for (const std::size_t i : indices)
    out.push_back(i < values.size() ? values[i] : std::nan(""));
  return out;
}

}  // namespace nrmlab::report
