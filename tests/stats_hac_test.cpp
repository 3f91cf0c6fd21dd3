// Newey-West standard errors against statsmodels' OLS(...).fit(cov_type="HAC") (reference
// values from tests/data/make_stats_reference.py).
#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "analysis/stats/hac.hpp"
#include "analysis/stats/ols.hpp"
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

TEST(StatsHac, TrendMatchesStatsmodelsAtTheAutomaticLag) {
  for (const auto& c : reference()["hac_trend"]) {
    const std::string name = c["name"];
    const auto x = numbers(c["x"]), y = numbers(c["y"]);
    const HacTrend trend = hac_trend(x, y);
    EXPECT_EQ(trend.lag, c["lag"].get<std::size_t>()) << name;
    EXPECT_EQ(trend.n, x.size());
    expect_close(trend.slope, c["slope"], 1e-10, name + " slope");
    expect_close(trend.intercept, c["intercept"], 1e-10, name + " intercept");
    expect_close(trend.standard_error, c["standard_error"], 1e-10, name + " se");
    expect_close(trend.p, c["p"], 1e-8, name + " p");
    expect_close(trend.ci_low, c["ci95"][0], 1e-9, name + " ci low");
    expect_close(trend.ci_high, c["ci95"][1], 1e-9, name + " ci high");
    const HacTrend ninety = hac_trend(x, y, 0.90);
    expect_close(ninety.ci_low, c["ci90"][0], 1e-9, name + " 90% low");
    expect_close(ninety.ci_high, c["ci90"][1], 1e-9, name + " 90% high");
  }
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

}  // namespace
}  // namespace nrmlab::analysis::stats
