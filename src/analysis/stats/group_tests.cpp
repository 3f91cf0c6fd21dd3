#include "analysis/stats/group_tests.hpp"

#include <algorithm>
#include <boost/math/distributions/fisher_f.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "analysis/stats/correlation.hpp"
#include "analysis/stats/descriptive.hpp"
#include "analysis/stats/ranks.hpp"
#include "util/numeric.hpp"

namespace nrmlab::analysis::stats {
namespace {

// Welch's standard error of mean(a) - mean(b) and its Welch-Satterthwaite degrees of
// freedom; both NaN when both samples are constant.
struct WelchDenominator {
  double se = k_nan;
  double df = k_nan;
};

WelchDenominator welch_denominator(std::span<const double> a, std::span<const double> b,
                                   const char* function) {
  if (a.size() < 2 || b.size() < 2)
    throw std::invalid_argument(std::string(function) + ": needs at least 2 points per sample");
  const double na = static_cast<double>(a.size()), nb = static_cast<double>(b.size());
  const double va = variance(a, 1) / na, vb = variance(b, 1) / nb;
  if (!(va + vb > 0.0)) return {};
  return {std::sqrt(va + vb),
          (va + vb) * (va + vb) / (va * va / (na - 1.0) + vb * vb / (nb - 1.0))};
}

}  // namespace

FTest brown_forsythe(const std::vector<std::span<const double>>& groups) {
  const std::size_t k = groups.size();
  if (k < 2) throw std::invalid_argument("brown_forsythe: needs at least 2 groups");
  std::size_t total = 0;
  for (const auto& group : groups) {
    if (group.empty()) throw std::invalid_argument("brown_forsythe: a group is empty");
    total += group.size();
  }
  if (total <= k) throw std::invalid_argument("brown_forsythe: needs more points than groups");

  // z_ij = |y_ij - median_i|; then the one-way ANOVA F of the z.
  std::vector<std::vector<double>> deviations(k);
  std::vector<double> group_means(k);
  double grand_mean = 0.0;
  for (std::size_t i = 0; i < k; ++i) {
    const double centre = median(groups[i]);
    for (const double v : groups[i])
      deviations[i].push_back(std::fabs(v - centre));
    group_means[i] = mean(deviations[i]);
    grand_mean += group_means[i] * static_cast<double>(groups[i].size());
  }
  grand_mean /= static_cast<double>(total);
  double between = 0.0, within = 0.0;
  for (std::size_t i = 0; i < k; ++i) {
    between += static_cast<double>(groups[i].size()) * (group_means[i] - grand_mean) *
               (group_means[i] - grand_mean);
    for (const double z : deviations[i])
      within += (z - group_means[i]) * (z - group_means[i]);
  }
  FTest result;
  result.df1 = static_cast<double>(k - 1);
  result.df2 = static_cast<double>(total - k);
  const double numerator = result.df2 * between, denominator = result.df1 * within;
  if (denominator == 0.0) {
    result.f = numerator == 0.0 ? k_nan : std::numeric_limits<double>::infinity();
    result.p = numerator == 0.0 ? k_nan : 0.0;
    return result;
  }
  result.f = numerator / denominator;
  const boost::math::fisher_f distribution(result.df1, result.df2);
  result.p = boost::math::cdf(boost::math::complement(distribution, result.f));
  return result;
}

WelchT welch_t_test(std::span<const double> a, std::span<const double> b) {
  const WelchDenominator denominator = welch_denominator(a, b, "welch_t_test");
  WelchT result;
  result.mean_difference = mean(a) - mean(b);
  result.df = denominator.df;
  result.t = result.mean_difference / denominator.se;  // NaN propagates
  result.p = std::isnan(result.t) ? k_nan : two_sided_t_p(result.t, result.df);
  return result;
}

MannWhitney mann_whitney_u(std::span<const double> a, std::span<const double> b) {
  if (a.empty() || b.empty())
    throw std::invalid_argument("mann_whitney_u: needs at least 1 point per sample");
  std::vector<double> pooled(a.begin(), a.end());
  pooled.insert(pooled.end(), b.begin(), b.end());
  const std::vector<double> ranks = average_ranks(pooled);
  const double n1 = static_cast<double>(a.size()), n2 = static_cast<double>(b.size());
  const double n = n1 + n2;
  double rank_sum = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i)
    rank_sum += ranks[i];
  MannWhitney result;
  result.u = rank_sum - n1 * (n1 + 1.0) / 2.0;

  // Tie term sum (t^3 - t) over groups of equal values (equal values share a rank).
  std::vector<double> sorted = pooled;
  std::sort(sorted.begin(), sorted.end());
  double tie_term = 0.0;
  for (const std::size_t size : tie_group_sizes(sorted)) {
    const auto t = static_cast<double>(size);
    tie_term += t * t * t - t;
  }
  const double spread = std::sqrt(n1 * n2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0))));
  if (!(spread > 0.0)) {
    result.z = result.p = k_nan;
    return result;
  }
  // The larger U's upper tail, doubled; the continuity correction always subtracts 0.5
  // because the survival function is used.
  const double u = std::max(result.u, n1 * n2 - result.u);
  result.z = (u - n1 * n2 / 2.0 - 0.5) / spread;
  const boost::math::normal distribution;
  result.p = std::min(1.0, 2.0 * boost::math::cdf(boost::math::complement(distribution, result.z)));
  return result;
}

Tost tost(std::span<const double> a, std::span<const double> b, double margin, double alpha) {
  if (!(margin > 0.0) || std::isinf(margin))
    throw std::invalid_argument("tost: the margin must be positive and finite");
  if (!(alpha > 0.0 && alpha < 1.0)) throw std::invalid_argument("tost: alpha is outside (0, 1)");
  const WelchDenominator denominator = welch_denominator(a, b, "tost");
  Tost result;
  result.mean_difference = mean(a) - mean(b);
  result.df = denominator.df;
  result.t_lower = (result.mean_difference + margin) / denominator.se;
  result.t_upper = (result.mean_difference - margin) / denominator.se;
  if (std::isnan(result.df)) {
    result.p = result.p_lower = result.p_upper = k_nan;
    return result;
  }
  // Each one-sided p from its own tail (survival function for "larger", cdf for
  // "smaller"), never 1 - the other.
  const boost::math::students_t distribution(result.df);
  result.p_lower = boost::math::cdf(boost::math::complement(distribution, result.t_lower));
  result.p_upper = boost::math::cdf(distribution, result.t_upper);
  result.p = std::max(result.p_lower, result.p_upper);
  result.equivalent = result.p < alpha;
  return result;
}

}  // namespace nrmlab::analysis::stats
