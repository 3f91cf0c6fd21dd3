// Mann-Kendall trend test on a series in time order: S = sum over i < j of sign(y_j - y_i),
// its variance under no trend corrected for ties (Hipel and McLeod 1994),
// var S = (n (n - 1) (2n + 5) - sum_t t (t - 1) (2t + 5)) / 18, the continuity-corrected
// z = (S - sign(S)) / sqrt(var S), its two-sided normal p-value, and Kendall's tau-b of y
// against time (scipy.stats.kendalltau(range(n), y)).
//
// O(n log n): S comes from counting inversions by merge sort (Knight 1966), so a
// 1,000,000-point series takes well under a second; the O(n^2) pair loop would not finish.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace nrmlab::analysis::stats {

struct MannKendall {
  std::int64_t s = 0;
  double variance = 0.0;
  double z = 0.0;
  double p = 0.0;    // two-sided
  double tau = 0.0;  // tau-b: S / sqrt(n0 (n0 - n_ties)), time has no ties
  std::size_t n = 0;
};

// z, p and tau are NaN for a constant series (variance 0). Throws std::invalid_argument
// for fewer than 3 values or NaN input.
MannKendall mann_kendall(std::span<const double> y);

}  // namespace nrmlab::analysis::stats
