#include "analysis/stats/mann_kendall.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "analysis/stats/hac.hpp"
#include "analysis/stats/p_values.hpp"
#include "analysis/stats/ranks.hpp"
#include "util/numeric.hpp"

namespace nrmlab::analysis::stats {
namespace {

// Sorts `values` (bottom-up merge sort) and returns the number of pairs i < j with
// values[i] > values[j]. Equal values are taken from the left run first, so tied pairs are
// neither inversions nor counted.
std::int64_t sort_counting_inversions(std::vector<double>& values) {
  const std::size_t n = values.size();
  std::vector<double> buffer(n);
  std::int64_t inversions = 0;
  for (std::size_t width = 1; width < n; width *= 2) {
    for (std::size_t left = 0; left < n; left += 2 * width) {
      const std::size_t middle = std::min(left + width, n);
      const std::size_t right = std::min(left + 2 * width, n);
      std::size_t i = left, j = middle, out = left;
      while (i < middle && j < right) {
        if (values[j] < values[i]) {
          // values[j] is smaller than everything still waiting in the left run.
          inversions += static_cast<std::int64_t>(middle - i);
          buffer[out++] = values[j++];
        } else {
          buffer[out++] = values[i++];
        }
      }
      while (i < middle)
        buffer[out++] = values[i++];
      while (j < right)
        buffer[out++] = values[j++];
    }
    values.swap(buffer);
  }
  return inversions;
}

}  // namespace

MannKendall mann_kendall(std::span<const double> y) {
  if (y.size() < 3) throw std::invalid_argument("mann_kendall: needs at least 3 values");
  if (std::any_of(y.begin(), y.end(), [](double v) { return std::isnan(v); }))
    throw std::invalid_argument("mann_kendall: y contains NaN");
  MannKendall result;
  result.n = y.size();
  std::vector<double> sorted(y.begin(), y.end());
  const std::int64_t discordant = sort_counting_inversions(sorted);

  // Time has no ties, so every pair is concordant, discordant or tied in y.
  const auto n = static_cast<std::int64_t>(result.n);
  const std::int64_t pairs = n * (n - 1) / 2;
  std::int64_t tied_pairs = 0;
  double tie_term = 0.0;
  for (const std::size_t size : tie_group_sizes(sorted)) {
    const auto t = static_cast<double>(size);
    tied_pairs += static_cast<std::int64_t>(size * (size - 1) / 2);
    tie_term += t * (t - 1.0) * (2.0 * t + 5.0);
  }
  const std::int64_t concordant = pairs - tied_pairs - discordant;
  result.s = concordant - discordant;

  const auto size = static_cast<double>(n);
  result.variance = (size * (size - 1.0) * (2.0 * size + 5.0) - tie_term) / 18.0;
  if (!(result.variance > 0.0)) {
    result.z = result.p = result.tau = k_nan;
    return result;
  }
  // The continuity correction moves S one step towards 0 (S changes in steps of 2).
  const double s = static_cast<double>(result.s);
  const double corrected = result.s > 0 ? s - 1.0 : (result.s < 0 ? s + 1.0 : 0.0);
  result.z = corrected / std::sqrt(result.variance);
  result.p = two_sided_normal_p(result.z);
  result.tau = s / std::sqrt(static_cast<double>(pairs)) /
               std::sqrt(static_cast<double>(pairs - tied_pairs));
  return result;
}

MannKendall mann_kendall_corrected(std::span<const double> y) {
  MannKendall result = mann_kendall(y);
  if (!(result.variance > 0.0)) return result;  // constant: NaN already
  const std::size_t n = y.size();
  const auto size = static_cast<double>(n);
  // Ranks detrended on time by least squares; time is 0..n-1, so its mean and Sxx are exact.
  const std::vector<double> ranks = average_ranks(y);
  const double time_mean = (size - 1.0) / 2.0, rank_mean = (size + 1.0) / 2.0;
  std::vector<double> centred(n), residuals(n);
  double sxx = 0.0, sxy = 0.0;
  for (std::size_t t = 0; t < n; ++t) {
    centred[t] = static_cast<double>(t) - time_mean;
    sxx += centred[t] * centred[t];
    sxy += centred[t] * (ranks[t] - rank_mean);
  }
  const double slope = sxy / sxx;
  double residual_squares = 0.0, rank_squares = 0.0;
  for (std::size_t t = 0; t < n; ++t) {
    residuals[t] = ranks[t] - rank_mean - slope * centred[t];
    residual_squares += residuals[t] * residuals[t];
    rank_squares += (ranks[t] - rank_mean) * (ranks[t] - rank_mean);
  }
  // Ranks are half-integers, so an exactly linear rank sequence leaves residuals of rounding
  // size only: nothing to estimate autocorrelation from.
  if (residual_squares > 1e-20 * rank_squares) {
    const double independent = sxx * residual_squares / size;
    const double ratio =
        prewhitened_score_variance(centred, residuals) / independent / fixed_b_mean_q();
    if (std::isfinite(ratio) && ratio > 0.0) result.variance_ratio = ratio;
  }
  result.variance *= result.variance_ratio;
  const double s = static_cast<double>(result.s);
  const double corrected = result.s > 0 ? s - 1.0 : (result.s < 0 ? s + 1.0 : 0.0);
  result.z = corrected / std::sqrt(result.variance);
  // The fixed-b statistic uses the unnormalised variance: z sqrt(1 / E[Q]) (hac.hpp).
  result.p = fixed_b_p(result.z / std::sqrt(fixed_b_mean_q()));
  return result;
}

}  // namespace nrmlab::analysis::stats
