// p-values from the standard normal distribution, for the large-sample tests (HAC,
// Mann-Kendall, Mann-Whitney). Always from the survival function, so tiny p-values do not
// underflow to exactly 0 as 1 - cdf would. two_sided_t_p lives in correlation.hpp.
#pragma once

#include <span>
#include <vector>

namespace nrmlab::analysis::stats {

// 2 P(Z > |z|); NaN for NaN, 0 for an infinite z.
double two_sided_normal_p(double z);

// The standard normal quantile for probability p in (0, 1), e.g. 1.959964 for 0.975.
double normal_quantile(double p);

// Holm-Bonferroni adjusted p-values (Holm 1979), in input order: with the m non-NaN
// p-values sorted ascending, p_(i) becomes max over j <= i of min(1, (m - j + 1) p_(j)).
// Rejecting where the adjusted value is below alpha controls the family-wise error rate at
// alpha under any dependence between the tests, and is uniformly more powerful than
// Bonferroni. NaN entries (untestable) stay NaN and do not count in m. Throws
// std::invalid_argument for a p-value outside [0, 1].
std::vector<double> holm(std::span<const double> p);

}  // namespace nrmlab::analysis::stats
