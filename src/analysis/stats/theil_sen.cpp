#include "analysis/stats/theil_sen.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "analysis/stats/descriptive.hpp"
#include "analysis/stats/p_values.hpp"
#include "util/numeric.hpp"

namespace nrmlab::analysis::stats {
namespace {

// sum over groups of equal values of t (t - 1) (2 t + 5): the tie term of Sen's variance.
std::int64_t tie_term(std::span<const double> values) {
  std::vector<double> sorted(values.begin(), values.end());
  std::sort(sorted.begin(), sorted.end());
  std::int64_t term = 0;
  for (std::size_t start = 0; start < sorted.size();) {
    std::size_t end = start + 1;
    while (end < sorted.size() && sorted[end] == sorted[start])
      ++end;
    const auto t = static_cast<std::int64_t>(end - start);
    term += t * (t - 1) * (2 * t + 5);
    start = end;
  }
  return term;
}

double order_statistic(std::vector<double>& values, std::size_t k) {
  const auto it = values.begin() + static_cast<std::ptrdiff_t>(k);
  std::nth_element(values.begin(), it, values.end());
  return *it;
}

// numpy's median without copying: median() would copy the O(n^2) slopes.
double median_in_place(std::vector<double>& values) {
  const std::size_t half = values.size() / 2;
  const double upper = order_statistic(values, half);
  if (values.size() % 2 == 1) return upper;
  // nth_element left the lower half in front; its maximum is the other middle value.
  const double lower =
      *std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(half));
  return (lower + upper) / 2.0;
}

}  // namespace

TheilSen theil_sen(std::span<const double> x, std::span<const double> y, double confidence,
                   TheilSenIntercept intercept) {
  if (x.size() != y.size()) throw std::invalid_argument("theil_sen: x and y differ in length");
  if (x.size() < 2) throw std::invalid_argument("theil_sen: needs at least 2 points");
  if (!(confidence > 0.0 && confidence < 1.0))
    throw std::invalid_argument("theil_sen: confidence is outside (0, 1)");
  const auto is_nan = [](double v) { return std::isnan(v); };
  if (std::any_of(x.begin(), x.end(), is_nan) || std::any_of(y.begin(), y.end(), is_nan))
    throw std::invalid_argument("theil_sen: the input contains NaN");

  const std::size_t n = x.size();
  TheilSen result{k_nan, k_nan, k_nan, k_nan, n};
  std::vector<double> slopes;
  slopes.reserve(n * (n - 1) / 2);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      // Always (later x - earlier x) in the denominator, the same operands as scipy's
      // deltay / deltax over deltax > 0, so the slopes are bit-identical.
      if (x[i] > x[j]) {
        slopes.push_back((y[i] - y[j]) / (x[i] - x[j]));
      } else if (x[j] > x[i]) {
        slopes.push_back((y[j] - y[i]) / (x[j] - x[i]));
      }
    }
  }
  if (slopes.empty()) return result;  // all x equal: no slope is defined

  const std::size_t count = slopes.size();
  result.slope = median_in_place(slopes);
  if (intercept == TheilSenIntercept::Separate) {
    result.intercept = median(y) - result.slope * median(x);
  } else {
    std::vector<double> offsets(n);
    for (std::size_t i = 0; i < n; ++i)
      offsets[i] = y[i] - result.slope * x[i];
    result.intercept = median(offsets);
  }

  // Sen (1968) eq. 2.6: the variance of the number of positive pairwise differences, less
  // the tied pairs in x and in y; scipy multiplies by 1/18. rather than dividing.
  const auto size = static_cast<std::int64_t>(n);
  const std::int64_t total = size * (size - 1) * (2 * size + 5) - tie_term(x) - tie_term(y);
  const double variance = (1.0 / 18.0) * static_cast<double>(total);
  if (variance < 0.0) return result;  // scipy: sqrt of a negative, NaN interval
  const double sigma = std::sqrt(variance);
  const double z = normal_quantile((1.0 - confidence) / 2.0);  // negative
  const double total_slopes = static_cast<double>(count);
  // np.round rounds half to even, as nearbyint does in the default rounding mode.
  const double upper_rank = std::nearbyint((total_slopes - z * sigma) / 2.0);
  const double lower_rank = std::nearbyint((total_slopes + z * sigma) / 2.0) - 1.0;
  const auto upper = static_cast<std::size_t>(std::min(upper_rank, total_slopes - 1.0));
  const auto lower = static_cast<std::size_t>(std::max(lower_rank, 0.0));
  result.ci_low = order_statistic(slopes, lower);
  result.ci_high = order_statistic(slopes, upper);
  return result;
}

}  // namespace nrmlab::analysis::stats
