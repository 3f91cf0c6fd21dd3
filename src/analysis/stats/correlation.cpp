#include "analysis/stats/correlation.hpp"

#include <algorithm>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "analysis/stats/ranks.hpp"
#include "util/numeric.hpp"

namespace nrmlab::analysis::stats {
double two_sided_t_p(double t, double degrees_of_freedom) {
  if (std::isnan(t) || !(degrees_of_freedom > 0.0)) return k_nan;
  if (std::isinf(t)) return 0.0;
  const boost::math::students_t distribution(degrees_of_freedom);
  return 2.0 * boost::math::cdf(boost::math::complement(distribution, std::fabs(t)));
}

Correlation pearson(std::span<const double> x, std::span<const double> y) {
  if (x.size() != y.size()) throw std::invalid_argument("pearson: x and y differ in length");
  Correlation result;
  result.n = x.size();
  if (result.n < 3) return {k_nan, k_nan, result.n};
  // Constant input has no correlation. Test the values themselves: a computed mean can
  // differ from identical values by rounding and leave a tiny, meaningless variance.
  const auto constant = [](std::span<const double> v) {
    return std::all_of(v.begin(), v.end(), [&](double value) { return value == v.front(); });
  };
  if (constant(x) || constant(y)) return {k_nan, k_nan, result.n};
  double mean_x = 0.0, mean_y = 0.0;
  for (std::size_t i = 0; i < result.n; ++i) {
    mean_x += x[i];
    mean_y += y[i];
  }
  mean_x /= static_cast<double>(result.n);
  mean_y /= static_cast<double>(result.n);
  double sxy = 0.0, sxx = 0.0, syy = 0.0;
  for (std::size_t i = 0; i < result.n; ++i) {
    const double dx = x[i] - mean_x, dy = y[i] - mean_y;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx == 0.0 || syy == 0.0) return {k_nan, k_nan, result.n};
  result.r = std::clamp(sxy / std::sqrt(sxx * syy), -1.0, 1.0);
  const double df = static_cast<double>(result.n - 2);
  if (std::fabs(result.r) == 1.0) {
    result.p = 0.0;  // a perfect fit: t is infinite
  } else {
    result.p = two_sided_t_p(result.r * std::sqrt(df / (1.0 - result.r * result.r)), df);
  }
  return result;
}

Correlation spearman(std::span<const double> x, std::span<const double> y) {
  if (x.size() != y.size()) throw std::invalid_argument("spearman: x and y differ in length");
  const auto rank_x = average_ranks(x);
  const auto rank_y = average_ranks(y);
  return pearson(rank_x, rank_y);
}

}  // namespace nrmlab::analysis::stats
