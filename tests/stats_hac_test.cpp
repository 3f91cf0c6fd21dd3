// Newey-West standard errors against statsmodels' OLS(...).fit(cov_type="HAC") (reference
// values from tests/data/make_stats_reference.py).
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "analysis/stats/hac.hpp"
#include "analysis/stats/ols.hpp"
#include "analysis/stats/p_values.hpp"
#include "stats_calibration.hpp"
#include "stats_reference.hpp"

namespace nrmlab::analysis::stats {
namespace {

using testing::expect_close;
using testing::matrix;
using testing::numbers;
using testing::reference;

TEST(StatsHac, AutomaticLagIsNeweyWestsRule) {
  EXPECT_EQ(newey_west_lag(100), 4u);
  EXPECT_EQ(newey_west_lag(250), 4u);
  EXPECT_EQ(newey_west_lag(1000), 6u);
  EXPECT_EQ(newey_west_lag(100000), 18u);
  EXPECT_EQ(newey_west_lag(1000000), 30u);
  EXPECT_EQ(newey_west_lag(10), 2u);
}

TEST(StatsHac, MatchesStatsmodelsWithoutSmallSampleCorrectionAndNormalP) {
  for (const auto& c : reference()["hac"]) {
    const std::string name = c["name"];
    const Eigen::MatrixXd x = matrix(c["x"]);
    const auto y = numbers(c["y"]);
    for (const auto& f : c["fits"]) {
      const std::size_t lag = f["lag"];
      const std::string label = name + " lag " + std::to_string(lag);
      const OlsFit fit = ols_hac(x, y, lag);
      ASSERT_EQ(fit.coefficients.size(), static_cast<std::size_t>(x.cols()));
      for (std::size_t k = 0; k < fit.coefficients.size(); ++k) {
        const std::string which = label + " coefficient " + std::to_string(k);
        expect_close(fit.coefficients[k], f["coefficients"][k], 1e-10, which);
        expect_close(fit.standard_errors[k], f["standard_errors"][k], 1e-10, which + " se");
        expect_close(fit.t[k], f["t"][k], 1e-9, which + " t");
        expect_close(fit.p[k], f["p"][k], 1e-8, which + " p");
      }
      expect_close(fit.r_squared, f["r_squared"], 1e-12, label + " R^2");
      EXPECT_EQ(fit.n, y.size());
    }
  }
}

// hac_trend's estimates are OLS (statsmodels' numbers); its inference is no longer
// statsmodels' Newey-West (see hac.hpp), but ols_hac at the reference's lag still is.
TEST(StatsHac, TrendEstimatesMatchStatsmodelsAndOldInferenceStaysReachable) {
  for (const auto& c : reference()["hac_trend"]) {
    const std::string name = c["name"];
    const auto x = numbers(c["x"]), y = numbers(c["y"]);
    const HacTrend trend = hac_trend(x, y);
    EXPECT_EQ(trend.lag, x.size() - 1) << name;
    EXPECT_EQ(trend.n, x.size());
    expect_close(trend.slope, c["slope"], 1e-10, name + " slope");
    expect_close(trend.intercept, c["intercept"], 1e-10, name + " intercept");
    Eigen::MatrixXd design(static_cast<Eigen::Index>(x.size()), 2);
    design.col(0).setOnes();
    design.col(1) = Eigen::Map<const Eigen::VectorXd>(x.data(), design.rows());
    const OlsFit old = ols_hac(design, y, c["lag"].get<std::size_t>());
    expect_close(old.standard_errors[1], c["standard_error"], 1e-10, name + " NW se");
  }
}

// The prewhitened full-bandwidth variance against its definition, an O(n^2) double sum
// of Bartlett weights, on data with gaps in x; and the interval and p from it.
TEST(StatsHac, TrendInferenceIsThePrewhitenedFixedBDefinition) {
  std::mt19937_64 engine(11);
  std::normal_distribution<double> noise(0.0, 1.0);
  std::vector<double> x, y;
  double state = 0.0;
  for (int i = 0; i < 150; ++i) {
    state = 0.7 * state + noise(engine);
    x.push_back(i + (i > 70 ? 5.0 : 0.0));
    y.push_back(10.0 + 0.01 * x.back() + state);
  }
  const HacTrend trend = hac_trend(x, y, 0.9);
  const std::size_t n = x.size();
  double x_mean = 0.0, y_mean = 0.0;
  for (std::size_t t = 0; t < n; ++t) {
    x_mean += x[t] / n;
    y_mean += y[t] / n;
  }
  double sxx = 0.0, sxy = 0.0;
  for (std::size_t t = 0; t < n; ++t) {
    sxx += (x[t] - x_mean) * (x[t] - x_mean);
    sxy += (x[t] - x_mean) * (y[t] - y_mean);
  }
  const double slope = sxy / sxx;
  std::vector<double> e(n);
  for (std::size_t t = 0; t < n; ++t)
    e[t] = y[t] - y_mean - slope * (x[t] - x_mean);
  double num = 0.0, den = 0.0;
  for (std::size_t t = 1; t < n; ++t) {
    num += e[t] * e[t - 1];
    den += e[t - 1] * e[t - 1];
  }
  const double phi = num / den + (2.0 + 4.0 * (num / den)) / static_cast<double>(n);
  EXPECT_NEAR(trend.prewhitening_ar, phi, 1e-12);
  EXPECT_GT(phi, 0.5);  // AR(1) 0.7 noise
  std::vector<double> w;
  for (std::size_t t = 1; t < n; ++t)
    w.push_back((x[t] - x_mean) * e[t] - phi * (x[t - 1] - x_mean) * e[t - 1]);
  const double m = static_cast<double>(w.size());
  double sum = 0.0;
  for (std::size_t s = 0; s < w.size(); ++s)
    for (std::size_t t = 0; t < w.size(); ++t)
      sum += (1.0 - std::fabs(static_cast<double>(s) - static_cast<double>(t)) / m) * w[s] * w[t];
  const double variance = sum * static_cast<double>(n) / m / ((1.0 - phi) * (1.0 - phi));
  EXPECT_NEAR(trend.slope, slope, 1e-12 * std::fabs(slope));
  EXPECT_NEAR(trend.standard_error, std::sqrt(variance) / sxx, 1e-9 * trend.standard_error);
  const double c = fixed_b_critical_value(0.9);
  EXPECT_NEAR(trend.ci_low, slope - c * trend.standard_error, 1e-12);
  EXPECT_NEAR(trend.ci_high, slope + c * trend.standard_error, 1e-12);
  EXPECT_DOUBLE_EQ(trend.p, fixed_b_p(slope / trend.standard_error));
}

// The fixed-b distribution is a proper, heavier-tailed-than-normal law: p falls from 1 to 0,
// its quantiles invert it, and they are the Kiefer-Vogelsang-Bunzel values for a trend.
TEST(StatsHac, FixedBDistributionIsProperAndInvertible) {
  EXPECT_NEAR(fixed_b_p(0.0), 1.0, 1e-6);
  EXPECT_EQ(fixed_b_p(std::numeric_limits<double>::infinity()), 0.0);
  EXPECT_TRUE(std::isnan(fixed_b_p(NAN)));
  double previous = 1.0;
  for (double t = 0.25; t < 60.0; t *= 1.3) {
    const double p = fixed_b_p(t);
    EXPECT_LT(p, previous) << t;
    EXPECT_EQ(fixed_b_p(-t), p);
    previous = p;
  }
  EXPECT_GT(previous, 0.0);
  for (const double confidence : {0.5, 0.9, 0.95, 0.99, 0.999}) {
    const double c = fixed_b_critical_value(confidence);
    EXPECT_NEAR(fixed_b_p(c), 1.0 - confidence, 1e-9) << confidence;
    EXPECT_GT(c, normal_quantile(0.5 + 0.5 * confidence)) << confidence;
  }
  // The 97.5% point of the KVB trend-slope statistic: 5.7 by our 2 * 10^6 draws, against the
  // ~4.8 of the intercept-only case (Kiefer, Vogelsang and Bunzel 2000, Table 1).
  EXPECT_NEAR(fixed_b_critical_value(0.95), 5.75, 0.1);
  EXPECT_THROW(fixed_b_critical_value(1.0), std::invalid_argument);
}

TEST(StatsHac, ConstantSeriesHasNoTrend) {
  // 0.1 is not a binary fraction: the means round, which used to give a slope of ~1e-18
  // with a zero standard error, i.e. "p = 0" and an interval excluding 0.
  std::vector<double> x, y(300, 0.1), big(300, 1.234567e6);
  for (int i = 0; i < 300; ++i)
    x.push_back(1000.0 + 3.0 * i);
  for (const auto& series : {y, big}) {
    const HacTrend trend = hac_trend(x, series);
    EXPECT_EQ(trend.slope, 0.0);
    EXPECT_EQ(trend.standard_error, 0.0);
    EXPECT_EQ(trend.p, 1.0);
    EXPECT_LE(trend.ci_low, 0.0);
    EXPECT_GE(trend.ci_high, 0.0);
    EXPECT_EQ(trend.intercept, series[0]);
  }
  // An exact line is a certain trend, not an undefined one.
  std::vector<double> line;
  for (const double v : x)
    line.push_back(2.0 + 0.5 * v);
  const HacTrend exact = hac_trend(x, line);
  EXPECT_NEAR(exact.slope, 0.5, 1e-12);
  EXPECT_LT(exact.p, 1e-6);
  EXPECT_GT(exact.ci_low, 0.0);
}

// With independent errors the HAC standard errors estimate the same thing as the classical
// ones; with positively autocorrelated errors they must be clearly larger.
TEST(StatsHac, LongSeriesAgreesWithOlsWhenIidAndWidensWhenAutocorrelated) {
  const std::size_t n = 200000;
  std::mt19937_64 engine(7);
  std::normal_distribution<double> noise(0.0, 1.0);
  Eigen::MatrixXd x(static_cast<Eigen::Index>(n), 3);
  std::vector<double> iid(n), correlated(n);
  double state = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto row = static_cast<Eigen::Index>(i);
    x(row, 0) = 1.0;
    x(row, 1) = static_cast<double>(i) / static_cast<double>(n);
    x(row, 2) = noise(engine);
    iid[i] = 1.0 + 0.5 * x(row, 1) + noise(engine);
    state = 0.8 * state + noise(engine);
    correlated[i] = 1.0 + 0.5 * x(row, 1) + state;
  }
  const OlsFit classical = ols(x, iid), robust = ols_hac(x, iid);
  for (std::size_t k = 0; k < 3; ++k)
    EXPECT_NEAR(robust.standard_errors[k] / classical.standard_errors[k], 1.0, 0.1) << k;
  const OlsFit naive = ols(x, correlated), hac = ols_hac(x, correlated);
  // The long-run variance of AR(1) 0.8 is 9 times the marginal one; lag 21 catches most.
  EXPECT_GT(hac.standard_errors[1] / naive.standard_errors[1], 2.0);
}

TEST(StatsHac, LagZeroIsWhitesEstimator) {
  const auto& c = reference()["hac"][1];
  const Eigen::MatrixXd x = matrix(c["x"]);
  const auto y = numbers(c["y"]);
  const OlsFit fit = ols_hac(x, y, 0);
  // HC0 by hand: (X'X)^-1 X' diag(e^2) X (X'X)^-1.
  const Eigen::Map<const Eigen::VectorXd> target(y.data(), x.rows());
  const Eigen::MatrixXd inverse = (x.transpose() * x).inverse();
  const Eigen::VectorXd e = target - x * (inverse * x.transpose() * target);
  const Eigen::MatrixXd meat = x.transpose() * e.array().square().matrix().asDiagonal() * x;
  const Eigen::MatrixXd covariance = inverse * meat * inverse;
  for (Eigen::Index k = 0; k < x.cols(); ++k)
    EXPECT_NEAR(fit.standard_errors[static_cast<std::size_t>(k)], std::sqrt(covariance(k, k)),
                1e-9 * std::sqrt(covariance(k, k)));
}

TEST(StatsHac, RejectsBadInput) {
  const std::vector<double> x = {1, 2, 3, 4}, y = {1, 3, 2, 5};
  EXPECT_THROW(hac_trend(x, std::vector<double>{1, 2, 3}), std::invalid_argument);
  EXPECT_THROW(hac_trend(std::vector<double>{1, 2}, std::vector<double>{1, 2}),
               std::invalid_argument);
  EXPECT_THROW(hac_trend(std::vector<double>{3, 3, 3, 3}, y), std::invalid_argument);
  EXPECT_THROW(hac_trend(x, y, 1.0), std::invalid_argument);
  Eigen::MatrixXd dependent(4, 2);
  dependent << 1, 2, 1, 2, 1, 2, 1, 2;
  EXPECT_THROW(ols_hac(dependent, y), std::invalid_argument);
  EXPECT_THROW(ols_hac(Eigen::MatrixXd::Ones(2, 2), std::vector<double>{1, 2}),
               std::invalid_argument);
  // Lags beyond the series have no pairs; they must not read out of bounds (ASan).
  Eigen::MatrixXd design(4, 2);
  design << 1, 1, 1, 2, 1, 3, 1, 4;
  for (const double se : ols_hac(design, y, 50).standard_errors)
    EXPECT_TRUE(std::isfinite(se));
  EXPECT_TRUE(std::isnan(ols_hac(design, std::vector<double>{2, 2, 2, 2}).r_squared));
}

// Size (false trends at alpha 0.05) on trendless AR(1) step times and power for a x1.3
// rise over 400 steps in AR(1) 0.5 noise (issue 17). Fixed seeds; a cell fails only if its
// false count is improbable (p < 0.001) at a true rate of 5%. The Newey-West test at the
// fixed lag (the method hac_trend replaced) is measured alongside and must fail at phi 0.9,
// which is what made the replacement necessary. Prints both tables.
TEST(StatsHac, TrendTestHoldsItsSizeUnderAutocorrelationAndKeepsPower) {
  const auto fixed_lag = [](std::span<const double> y) {
    Eigen::MatrixXd design(static_cast<Eigen::Index>(y.size()), 2);
    design.col(0).setOnes();
    for (Eigen::Index t = 0; t < design.rows(); ++t)
      design(t, 1) = static_cast<double>(t);
    return ols_hac(design, y).p[1] < 0.05;
  };
  const auto robust = [](std::span<const double> y) {
    std::vector<double> x(y.size());
    for (std::size_t t = 0; t < x.size(); ++t)
      x[t] = static_cast<double>(t);
    return hac_trend(x, y).p < 0.05;
  };
  testing::expect_size_and_power("Newey-West fixed lag", fixed_lag, "hac_trend", robust, 0.9, 100);
}

}  // namespace
}  // namespace nrmlab::analysis::stats
