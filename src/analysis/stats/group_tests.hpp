// Two-sample and k-sample tests for comparing runs (e.g. the same workload under two
// allocators): Brown-Forsythe for equal spread, Welch's t for equal means, Mann-Whitney U
// for a location shift without normality, and TOST for practical equivalence of means.
// Each matches the scipy/statsmodels function named with it.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace nrmlab::analysis::stats {

struct FTest {
  double f = 0.0;
  double df1 = 0.0;  // k - 1
  double df2 = 0.0;  // N - k
  double p = 0.0;
};

// Brown-Forsythe test of equal variances: Levene's test on absolute deviations from each
// group's median, = scipy.stats.levene(*groups, center="median"). Needs at least 2 groups,
// none empty, and more points than groups (std::invalid_argument otherwise). F is NaN when
// every absolute deviation equals its group's mean (0 / 0); +inf with p = 0 when only the
// within-group spread of the deviations is 0, as scipy.
FTest brown_forsythe(const std::vector<std::span<const double>>& groups);

struct WelchT {
  double t = 0.0;
  double df = 0.0;               // Welch-Satterthwaite
  double p = 0.0;                // two-sided
  double mean_difference = 0.0;  // mean(a) - mean(b)
};

// = scipy.stats.ttest_ind(a, b, equal_var=False). Needs 2 points per sample. t, df and p
// are NaN when both samples are constant (scipy reports a t of +-inf or NaN there).
WelchT welch_t_test(std::span<const double> a, std::span<const double> b);

struct MannWhitney {
  double u = 0.0;  // U of the first sample: R1 - n1 (n1 + 1) / 2
  double z = 0.0;  // of max(U1, U2), continuity-corrected (so <= 0 only near no effect)
  double p = 0.0;  // two-sided
};

// = scipy.stats.mannwhitneyu(a, b, alternative="two-sided", method="asymptotic") with the
// tie-corrected variance and continuity correction. Needs a non-empty sample each. z and p
// are NaN when all values are equal (scipy reports p = 1 there).
MannWhitney mann_whitney_u(std::span<const double> a, std::span<const double> b);

struct Tost {
  double p = 0.0;        // max(p_lower, p_upper)
  double t_lower = 0.0;  // (mean difference + margin) / se, H1: difference > -margin
  double p_lower = 0.0;
  double t_upper = 0.0;  // (mean difference - margin) / se, H1: difference < margin
  double p_upper = 0.0;
  double df = 0.0;  // Welch-Satterthwaite
  double mean_difference = 0.0;
  bool equivalent = false;  // p < alpha
};

// Two one-sided Welch t tests of |mean(a) - mean(b)| < margin,
// = statsmodels.stats.weightstats.ttost_ind(a, b, -margin, margin, usevar="unequal").
// Needs 2 points per sample, margin > 0 and alpha in (0, 1). NaN p (and not equivalent)
// when both samples are constant.
Tost tost(std::span<const double> a, std::span<const double> b, double margin, double alpha = 0.05);

}  // namespace nrmlab::analysis::stats
