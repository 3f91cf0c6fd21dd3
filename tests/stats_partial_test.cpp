// Partial Pearson and Spearman correlation against numpy's residual method (pingouin's
// partial_corr) from tests/data/make_stats_reference.py.
#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "analysis/stats/correlation.hpp"
#include "analysis/stats/partial_correlation.hpp"
#include "stats_reference.hpp"

namespace nrmlab::analysis::stats {
namespace {

using testing::expect_close;
using testing::matrix;
using testing::numbers;
using testing::reference;

TEST(StatsPartialCorrelation, MatchesTheResidualMethod) {
  for (const auto& c : reference()["partial_correlation"]) {
    const std::string name = c["name"];
    const auto x = numbers(c["x"]), y = numbers(c["y"]);
    const Eigen::MatrixXd controls = matrix(c["controls"]);
    const Correlation p = partial_pearson(x, y, controls), s = partial_spearman(x, y, controls);
    expect_close(p.r, c["pearson_r"], 1e-10, name + " pearson r");
    expect_close(p.p, c["pearson_p"], 1e-8, name + " pearson p");
    expect_close(s.r, c["spearman_r"], 1e-10, name + " spearman r");
    expect_close(s.p, c["spearman_p"], 1e-8, name + " spearman p");
    EXPECT_EQ(p.n, x.size());
  }
}

TEST(StatsPartialCorrelation, NoControlsIsThePlainCorrelation) {
  const auto& c = reference()["correlation"][0];
  const auto x = numbers(c["x"]), y = numbers(c["y"]);
  const Eigen::MatrixXd none(static_cast<Eigen::Index>(x.size()), 0);
  expect_close(partial_pearson(x, y, none).r, c["pearson_r"], 1e-12, "r");
  expect_close(partial_pearson(x, y, none).p, c["pearson_p"], 1e-9, "p");
  expect_close(partial_spearman(x, y, none).r, c["spearman_r"], 1e-12, "spearman r");
}

TEST(StatsPartialCorrelation, RedundantControlsCostNoDegreeOfFreedom) {
  const auto& c = reference()["partial_correlation"][0];  // one control
  const auto x = numbers(c["x"]), y = numbers(c["y"]);
  const Eigen::MatrixXd controls = matrix(c["controls"]);
  Eigen::MatrixXd padded(controls.rows(), 3);
  padded << controls, Eigen::VectorXd::Constant(controls.rows(), 4.0), -controls;
  const Correlation plain = partial_pearson(x, y, controls), same = partial_pearson(x, y, padded);
  EXPECT_NEAR(same.r, plain.r, 1e-12);
  EXPECT_NEAR(same.p, plain.p, 1e-10 * plain.p);
}

TEST(StatsPartialCorrelation, UndefinedCasesAreNaN) {
  const std::vector<double> x = {1, 2, 3, 4, 5, 6}, y = {2, 1, 4, 3, 6, 5};
  Eigen::MatrixXd controls(6, 1);
  controls << 1, 2, 3, 4, 5, 6;
  // x is explained exactly by the control: its residuals are rounding noise.
  EXPECT_TRUE(std::isnan(partial_pearson(x, y, controls).r));
  EXPECT_TRUE(std::isnan(partial_spearman(x, y, controls).p));
  // n - 2 - k < 1: 4 points, 2 controls.
  Eigen::MatrixXd two(4, 2);
  two << 1, 0, 0, 1, 2, 5, 3, 1;
  const std::vector<double> a = {1, 3, 2, 5}, b = {2, 2, 4, 1};
  EXPECT_TRUE(std::isnan(partial_pearson(a, b, two).r));
  EXPECT_TRUE(std::isnan(partial_pearson(a, b, two).p));
  // One control, 4 points: df = 1 and the result is defined.
  EXPECT_FALSE(std::isnan(partial_pearson(a, b, two.leftCols(1)).p));
  EXPECT_THROW(partial_pearson(x, std::vector<double>{1, 2}, controls), std::invalid_argument);
  EXPECT_THROW(partial_spearman(a, b, controls), std::invalid_argument);  // rows differ
}

// Issue 17: an exactly constant indicator (a steady load average) gave r up to 1.00 with
// p = 0, because its residuals are rounding noise and the old floor was relative to its own
// (zero) spread.
TEST(StatsPartialCorrelation, ConstantIndicatorOrOutcomeIsNaN) {
  std::mt19937_64 engine(3);
  std::normal_distribution<double> normal(0.0, 1.0);
  const std::size_t n = 200;
  std::vector<double> steady(n, 0.37), outcome(n);
  Eigen::MatrixXd controls(static_cast<Eigen::Index>(n), 2);
  for (std::size_t i = 0; i < n; ++i) {
    outcome[i] = normal(engine);
    controls(static_cast<Eigen::Index>(i), 0) = static_cast<double>(i);
    controls(static_cast<Eigen::Index>(i), 1) = normal(engine);
  }
  for (const bool swap : {false, true}) {
    const auto& x = swap ? outcome : steady;
    const auto& y = swap ? steady : outcome;
    for (const Correlation c : {partial_pearson(x, y, controls), partial_spearman(x, y, controls),
                                partial_pearson(x, y, controls.leftCols(0))}) {
      EXPECT_TRUE(std::isnan(c.r)) << swap << " r " << c.r;
      EXPECT_TRUE(std::isnan(c.p)) << swap << " p " << c.p;
    }
  }
  // Constant after residualising: an exact affine function of a control, with an offset.
  std::vector<double> affine(n);
  for (std::size_t i = 0; i < n; ++i)
    affine[i] = 1e3 + 0.1 * controls(static_cast<Eigen::Index>(i), 1);
  EXPECT_TRUE(std::isnan(partial_pearson(affine, outcome, controls).r));
  // A real but small variation is kept.
  std::vector<double> varied = steady;
  varied[7] += 1e-3;
  EXPECT_FALSE(std::isnan(partial_pearson(varied, outcome, controls).r));
}

}  // namespace
}  // namespace nrmlab::analysis::stats
