// p-values from the standard normal distribution, for the large-sample tests (HAC,
// Mann-Kendall, Mann-Whitney). Always from the survival function, so tiny p-values do not
// underflow to exactly 0 as 1 - cdf would. two_sided_t_p lives in correlation.hpp.
#pragma once

namespace nrmlab::analysis::stats {

// 2 P(Z > |z|); NaN for NaN, 0 for an infinite z.
double two_sided_normal_p(double z);

// The standard normal quantile for probability p in (0, 1), e.g. 1.959964 for 0.975.
double normal_quantile(double p);

}  // namespace nrmlab::analysis::stats
