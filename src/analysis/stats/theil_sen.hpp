// Theil-Sen slope (median of the pairwise slopes) with Sen's (1968) confidence interval,
// exactly as scipy.stats.theilslopes (scipy 1.10). Robust to outliers and to the heavy
// tails of per-step timings, where a least-squares slope follows a few spikes.
//
// Cost: all n (n - 1) / 2 pairwise slopes are formed and selected with nth_element, so
// O(n^2) time and 8 n^2 / 2 bytes (n = 5000 takes 100 MB); callers keep n to a few
// thousand (e.g. by binning a long series first).
#pragma once

#include <cstddef>
#include <span>

namespace nrmlab::analysis::stats {

// How the intercept is estimated. scipy's default is Separate.
enum class TheilSenIntercept {
  Separate,  // median(y) - slope median(x)
  Joint,     // median(y - slope x)
};

struct TheilSen {
  double slope = 0.0;
  double intercept = 0.0;
  double ci_low = 0.0;  // confidence interval of the slope
  double ci_high = 0.0;
  std::size_t n = 0;
};

// Only pairs with different x give slopes; ties in x and y reduce Sen's variance as in
// scipy. NaN slope and intercept when all x are equal; NaN interval bounds when Sen's
// variance is negative (heavy ties in both x and y), as scipy. `confidence` in (0, 1)
// (scipy's alpha; unlike scipy, values below 0.5 are not reinterpreted as 1 - alpha).
// Throws std::invalid_argument when the lengths differ, for fewer than 2 points or for NaN
// input.
TheilSen theil_sen(std::span<const double> x, std::span<const double> y, double confidence = 0.95,
                   TheilSenIntercept intercept = TheilSenIntercept::Separate);

}  // namespace nrmlab::analysis::stats
