// Descriptive statistics and series transformations against numpy (reference values from
// tests/data/make_stats_reference.py).
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "analysis/stats/descriptive.hpp"
#include "analysis/stats/series.hpp"
#include "stats_reference.hpp"

namespace nrmlab::analysis::stats {
namespace {

using testing::expect_close;
using testing::matrix;
using testing::numbers;
using testing::reference;

TEST(StatsDescriptive, MatchesNumpy) {
  for (const auto& c : reference()["descriptive"]) {
    const std::string name = c["name"];
    const auto x = numbers(c["x"]);
    expect_close(mean(x), c["mean"], 1e-14, name + " mean");
    expect_close(median(x), c["median"], 1e-15, name + " median");
    const auto q = numbers(c["q"]), expected = numbers(c["quantiles"]);
    for (std::size_t i = 0; i < q.size(); ++i)
      expect_close(quantile(x, q[i]), expected[i], 1e-15,
                   name + " quantile " + std::to_string(q[i]));
    if (!c.contains("var0")) continue;
    expect_close(variance(x, 0), c["var0"], 1e-12, name + " var ddof 0");
    expect_close(variance(x, 1), c["var1"], 1e-12, name + " var ddof 1");
    expect_close(standard_deviation(x, 0), c["std0"], 1e-12, name + " std ddof 0");
    expect_close(standard_deviation(x, 1), c["std1"], 1e-12, name + " std ddof 1");
  }
}

TEST(StatsDescriptive, QuantileInterpolatesBetweenOrderStatistics) {
  const std::vector<double> x = {10, 0, 30, 20};  // sorted 0 10 20 30, positions 0..3
  EXPECT_EQ(quantile(x, 0.0), 0.0);
  EXPECT_EQ(quantile(x, 1.0), 30.0);
  EXPECT_DOUBLE_EQ(quantile(x, 0.5), 15.0);
  EXPECT_DOUBLE_EQ(quantile(x, 0.1), 3.0);   // position 0.3
  EXPECT_DOUBLE_EQ(quantile(x, 0.9), 27.0);  // position 2.7
  EXPECT_EQ(median(x), 15.0);
  EXPECT_EQ(median(std::vector<double>{5, 1, 3}), 3.0);
  // The large offset must not cancel the variance away.
  EXPECT_NEAR(variance(std::vector<double>{1e9 + 1, 1e9 + 2, 1e9 + 3}, 1), 1.0, 1e-9);
}

TEST(StatsDescriptive, RejectsTooFewValuesAndReportsNaN) {
  const std::vector<double> empty;
  EXPECT_THROW(mean(empty), std::invalid_argument);
  EXPECT_THROW(median(empty), std::invalid_argument);
  EXPECT_THROW(quantile(empty, 0.5), std::invalid_argument);
  EXPECT_THROW(variance(std::vector<double>{1.0}, 1), std::invalid_argument);
  EXPECT_THROW(variance(std::vector<double>{1.0, 2.0}, 2), std::invalid_argument);
  EXPECT_THROW(quantile(std::vector<double>{1.0}, 1.5), std::invalid_argument);
  EXPECT_THROW(quantile(std::vector<double>{1.0}, -0.1), std::invalid_argument);
  EXPECT_EQ(variance(std::vector<double>{1.0}, 0), 0.0);
  const std::vector<double> with_nan = {1.0, std::numeric_limits<double>::quiet_NaN(), 3.0};
  EXPECT_TRUE(std::isnan(quantile(with_nan, 0.5)));
  EXPECT_TRUE(std::isnan(median(with_nan)));
}

TEST(StatsSeries, FirstDifferences) {
  EXPECT_EQ(first_differences(std::vector<double>{1, 4, 9, 16}), (std::vector<double>{3, 5, 7}));
  EXPECT_THROW(first_differences(std::vector<double>{1}), std::invalid_argument);
}

TEST(StatsSeries, ResidualizeMatchesNumpyLeastSquares) {
  for (const auto& c : reference()["residualize"]) {
    const auto y = numbers(c["y"]), expected = numbers(c["residuals"]);
    const auto residuals = residualize(y, matrix(c["controls"]));
    ASSERT_EQ(residuals.size(), expected.size());
    for (std::size_t i = 0; i < y.size(); ++i)
      EXPECT_NEAR(residuals[i], expected[i], 1e-12) << i;
  }
}

TEST(StatsSeries, DetrendLinearRemovesTheLine) {
  const auto& c = reference()["residualize"][1];  // y on a single column t
  const auto y = numbers(c["y"]), expected = numbers(c["residuals"]);
  const auto controls = matrix(c["controls"]);
  const std::vector<double> x(controls.data(), controls.data() + controls.rows());
  const auto residuals = detrend_linear(x, y);
  for (std::size_t i = 0; i < y.size(); ++i)
    EXPECT_NEAR(residuals[i], expected[i], 1e-12) << i;
  // An exact line leaves nothing; a constant x leaves y minus its mean.
  const std::vector<double> t = {0, 1, 2, 3, 4}, line = {3, 5, 7, 9, 11};
  for (const double r : detrend_linear(t, line))
    EXPECT_NEAR(r, 0.0, 1e-12);
  const auto centred = detrend_linear(std::vector<double>{2, 2, 2}, std::vector<double>{1, 2, 6});
  EXPECT_NEAR(centred[0], -2.0, 1e-12);
  EXPECT_NEAR(centred[2], 3.0, 1e-12);
  EXPECT_THROW(detrend_linear(t, std::vector<double>{1, 2}), std::invalid_argument);
  EXPECT_THROW(detrend_linear(std::vector<double>{1, 2}, std::vector<double>{1, 2}),
               std::invalid_argument);
}

TEST(StatsSeries, DependentControlsProjectOntoTheSameSpan) {
  const auto& c = reference()["residualize"][0];
  const auto y = numbers(c["y"]);
  const Eigen::MatrixXd controls = matrix(c["controls"]);
  // Add a duplicate of column 0 and a constant column: the span is unchanged.
  Eigen::MatrixXd redundant(controls.rows(), controls.cols() + 2);
  redundant << controls, 2.0 * controls.col(0), Eigen::VectorXd::Constant(controls.rows(), 7.0);
  const auto plain = residualize(y, controls), padded = residualize(y, redundant);
  for (std::size_t i = 0; i < y.size(); ++i)
    EXPECT_NEAR(padded[i], plain[i], 1e-10) << i;
  const Eigen::Map<const Eigen::VectorXd> target(y.data(), static_cast<Eigen::Index>(y.size()));
  EXPECT_EQ(residualize_columns(target, redundant).rank, 4u);  // intercept + 3 controls
  EXPECT_THROW(residualize(std::vector<double>{1, 2}, controls), std::invalid_argument);
}

}  // namespace
}  // namespace nrmlab::analysis::stats
