#include "analysis/stats/p_values.hpp"

#include <algorithm>
#include <boost/math/distributions/normal.hpp>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace nrmlab::analysis::stats {

double two_sided_normal_p(double z) {
  if (std::isnan(z)) return std::numeric_limits<double>::quiet_NaN();
  if (std::isinf(z)) return 0.0;
  const boost::math::normal distribution;
  return 2.0 * boost::math::cdf(boost::math::complement(distribution, std::fabs(z)));
}

double normal_quantile(double p) {
  if (!(p > 0.0 && p < 1.0)) throw std::invalid_argument("normal_quantile: p is outside (0, 1)");
  return boost::math::quantile(boost::math::normal(), p);
}

std::vector<double> holm(std::span<const double> p) {
  std::vector<double> adjusted(p.begin(), p.end());
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (std::isnan(p[i])) continue;
    if (!(p[i] >= 0.0 && p[i] <= 1.0)) throw std::invalid_argument("holm: p is outside [0, 1]");
    order.push_back(i);
  }
  // Stable, so tied p-values keep their input order (their adjusted values come out equal
  // either way, through the running maximum).
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return p[a] < p[b]; });
  const std::size_t m = order.size();
  double running = 0.0;
  for (std::size_t rank = 0; rank < m; ++rank) {
    const double scaled = std::min(1.0, static_cast<double>(m - rank) * p[order[rank]]);
    running = std::max(running, scaled);
    adjusted[order[rank]] = running;
  }
  return adjusted;
}

}  // namespace nrmlab::analysis::stats
