// Newey-West (HAC: heteroskedasticity and autocorrelation consistent) standard errors for
// OLS, with the Bartlett kernel. A trend fitted to a long simulation's per-step timings has
// strongly autocorrelated residuals; the classical OLS standard error then understates the
// slope's uncertainty many times over and every trend looks significant.
//
// Conventions are those of statsmodels (0.13.5, read in its source and asserted by
// tests/data/make_stats_reference.py), OLS(y, X).fit(cov_type="HAC",
// cov_kwds={"maxlags": L}), so results agree to rounding:
//  * no small-sample correction: cov = (X'X)^-1 S (X'X)^-1 with
//    S = sum_t u_t u_t' + sum_{l=1..L} (1 - l / (L + 1)) sum_t (u_t u_{t-l}' + u_{t-l} u_t'),
//    u_t = x_t e_t (statsmodels' use_correction defaults to False for "HAC");
//  * t = b / se is referred to the standard normal distribution, not Student's t (its
//    use_t defaults to False for robust covariances), for p-values and intervals alike.
#pragma once

#include <Eigen/Dense>
#include <cstddef>
#include <optional>
#include <span>

#include "analysis/stats/ols.hpp"

namespace nrmlab::analysis::stats {

// The usual automatic lag, floor(4 (n / 100)^(2/9)) (Newey and West 1994; statsmodels'
// default when maxlags is None): 4 lags at n = 100, 6 at 1000, 18 at 10^5, 30 at 10^6.
std::size_t newey_west_lag(std::size_t n);

// OLS of y on the columns of X (include an intercept column yourself) with HAC standard
// errors; `lag` defaults to newey_west_lag(n). t and p use the normal distribution (see
// above); degrees_of_freedom is still n - k. Lags of n or more add nothing (no pairs).
// Costs O(n k^2 (lag + 1)) and O(n k) memory. Throws std::invalid_argument like ols().
OlsFit ols_hac(const Eigen::MatrixXd& x, std::span<const double> y,
               std::optional<std::size_t> lag = {});

// Trend inference that holds its size under strongly autocorrelated errors.
//
// Why not Newey-West at floor(4 (n/100)^(2/9)) lags with normal critical values: with
// stationary AR(1) errors (phi 0.9, no trend) that test rejected in 47% of series at n = 100
// and 26% at n = 3000 (tests/stats_hac_test.cpp measures it). A data-driven bandwidth alone
// (Andrews 1991's AR(1) plug-in after Andrews-Monahan 1992 prewhitening) still rejected
// 20-26% at n = 100. What holds the size is the combination below:
//  1. Prewhitening (Andrews and Monahan 1992): an AR(1) coefficient is fitted to the OLS
//     residuals and the slope scores v_t = (x_t - mean x) e_t are filtered,
//     w_t = v_t - phi w_{t-1}; the long-run variance of v is that of w divided by (1 - phi)^2.
//     phi is bias-corrected for the fitted intercept and trend (the least-squares AR(1)
//     estimate on detrended data is biased down by about (2 + 4 phi) / n: Kendall 1954,
//     Shaman and Stine 1988), and clamped to [-0.99, 0.99].
//  2. The Bartlett kernel without truncation (bandwidth n, all n - 1 lags: Kiefer, Vogelsang
//     and Bunzel 2000) on w.
//  3. Fixed-b critical values and p-values (Kiefer and Vogelsang 2005; Bunzel and Vogelsang
//     2005 for the trend): t = slope / se does not tend to N(0, 1) but to Z / sqrt(Q), Q an
//     independent functional of a Brownian bridge. Its 97.5% point is about 5.7, not 1.96.
//     The distribution of Q is tabulated by simulation (tests/data/make_fixed_b_table.cpp).
// Measured at alpha 0.05 (500 series per cell, see the test): size at most ~9% for AR(1)
// phi 0.9 to 0.95 at n = 100 and about 5% from n = 400, and power 100% for a x1.3 rise over
// 400 steps in AR(1) 0.5 noise of 10% sd. The price is power for small trends in iid data.

// The two-sided p-value of a statistic t under the fixed-b (b = 1, Bartlett) null
// distribution of the trend slope: P(|Z / sqrt(Q)| > |t|), a mixture of normal tails over
// the tabulated distribution of Q. NaN for NaN, 0 for infinite t. Accurate to about 1e-3
// relative above p = 1e-4; further out it is an approximation (the table's lowest cell
// stands for the lowest 2e-5 of Q) that stays monotone.
double fixed_b_p(double t);

// E[Q] from the table (about 0.3): the full-bandwidth Bartlett estimate of a long-run
// variance is not consistent but converges to the variance times Q, so dividing it by
// E[Q] gives an estimate that is right on average (used for Mann-Kendall's n / n*).
double fixed_b_mean_q();

// The c with fixed_b_p(c) = 1 - confidence (about 5.7 for 0.95, 4.6 for 0.90); `confidence`
// in (0, 1), else std::invalid_argument.
double fixed_b_critical_value(double confidence);

// Prewhitened Bartlett (bandwidth n) estimate of Var(sum_t c_t e_t) from the series c_t e_t,
// where e are regression residuals in time order and c the centred regressor, as described
// above (steps 1 and 2). `ar` receives the bias-corrected, clamped AR(1) coefficient used.
// Costs O(n). Requires equal lengths of at least 3.
double prewhitened_score_variance(std::span<const double> centred_x,
                                  std::span<const double> residuals, double* ar = nullptr);

struct HacTrend {
  double slope = 0.0;
  double intercept = 0.0;
  double standard_error = 0.0;  // of the slope: sqrt(prewhitened_score_variance) / Sxx
  double p = 0.0;               // two-sided, fixed-b (fixed_b_p of slope / standard_error)
  double ci_low = 0.0;          // slope -/+ fixed_b_critical_value(confidence) se
  double ci_high = 0.0;
  std::size_t lag = 0;  // the bandwidth's last lag: n - 1 (every lag, weight 1 - l / n)
  std::size_t n = 0;
  double prewhitening_ar = 0.0;  // the AR(1) coefficient used to prewhiten (see above)
};

// y = intercept + slope x, OLS, with the autocorrelation-robust inference above; points are
// taken in time order as given. `confidence` must lie in (0, 1). An exactly constant y has
// slope 0, standard error 0, p = 1 and the interval [0, 0] (no trend, and none can be
// estimated). Throws std::invalid_argument when lengths differ, for fewer than 3 points,
// or when x is constant. O(n): 10^6 points take a few milliseconds.
HacTrend hac_trend(std::span<const double> x, std::span<const double> y, double confidence = 0.95);

}  // namespace nrmlab::analysis::stats
