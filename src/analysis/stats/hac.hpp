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

struct HacTrend {
  double slope = 0.0;
  double intercept = 0.0;
  double standard_error = 0.0;  // of the slope, HAC
  double p = 0.0;               // two-sided, normal
  double ci_low = 0.0;          // slope -/+ z_{(1+confidence)/2} standard_error
  double ci_high = 0.0;
  std::size_t lag = 0;
  std::size_t n = 0;
};

// y = intercept + slope x with HAC standard errors at the automatic lag. `confidence` must
// lie in (0, 1). Throws std::invalid_argument when lengths differ, for fewer than 3 points,
// or when x is constant.
HacTrend hac_trend(std::span<const double> x, std::span<const double> y, double confidence = 0.95);

}  // namespace nrmlab::analysis::stats
