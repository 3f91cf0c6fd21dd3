#include "analysis/stats/p_values.hpp"

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

}  // namespace nrmlab::analysis::stats
