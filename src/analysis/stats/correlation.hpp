// Pearson and Spearman correlation with two-sided p-values from the t distribution
// (t = r sqrt((n - 2) / (1 - r^2)), n - 2 degrees of freedom), as study.md section 3
// specifies. Constant input has no correlation: r and p are NaN, never a made-up 0.
#pragma once

#include <cstddef>
#include <span>

namespace nrmlab::analysis::stats {

struct Correlation {
  double r = 0.0;
  double p = 0.0;  // two-sided
  std::size_t n = 0;
};

// Throws std::invalid_argument when the lengths differ.
Correlation pearson(std::span<const double> x, std::span<const double> y);
// Pearson correlation of the average ranks.
Correlation spearman(std::span<const double> x, std::span<const double> y);

// Two-sided p-value of a t statistic, from the survival function (so tiny p-values do not
// underflow to exactly 0 as 1 - cdf would).
double two_sided_t_p(double t, double degrees_of_freedom);

}  // namespace nrmlab::analysis::stats
