// Non-negative least squares against scipy.optimize.nnls (tests/data/make_stats_reference.py)
// and against its optimality conditions.
#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "analysis/stats/nnls.hpp"
#include "stats_reference.hpp"

namespace nrmlab::analysis::stats {
namespace {

using testing::expect_close;
using testing::matrix;
using testing::numbers;
using testing::reference;

// Kuhn-Tucker conditions of min ||A x - b||, x >= 0 with w = A'(b - A x): x >= 0, w <= 0
// where x = 0, w = 0 where x > 0 (to rounding, relative to |A'b|).
void expect_optimal(const Eigen::MatrixXd& a, std::span<const double> b, const NnlsFit& fit) {
  const Eigen::Map<const Eigen::VectorXd> target(b.data(), a.rows());
  const Eigen::Map<const Eigen::VectorXd> x(fit.coefficients.data(), a.cols());
  const Eigen::VectorXd w = a.transpose() * (target - a * x);
  const double scale = (a.transpose() * target).cwiseAbs().maxCoeff();
  for (Eigen::Index j = 0; j < a.cols(); ++j) {
    const auto u = static_cast<std::size_t>(j);
    EXPECT_GE(x(j), 0.0) << j;
    EXPECT_EQ(fit.active[u], x(j) == 0.0) << j;
    if (fit.active[u]) {
      EXPECT_LE(w(j), 1e-10 * scale) << j;
    } else {
      EXPECT_NEAR(w(j), 0.0, 1e-10 * scale) << j;
    }
  }
}

TEST(StatsNnls, MatchesScipyLawsonHanson) {
  for (const auto& c : reference()["nnls"]) {
    const std::string name = c["name"];
    const Eigen::MatrixXd a = matrix(c["a"]);
    const auto b = numbers(c["b"]), expected = numbers(c["coefficients"]);
    const NnlsFit fit = nnls(a, b);
    ASSERT_EQ(fit.coefficients.size(), expected.size());
    for (std::size_t j = 0; j < expected.size(); ++j) {
      if (expected[j] == 0.0) {
        EXPECT_EQ(fit.coefficients[j], 0.0) << name << " " << j;
        EXPECT_TRUE(fit.active[j]) << name << " " << j;
      } else {
        expect_close(fit.coefficients[j], expected[j], 1e-8, name + " " + std::to_string(j));
        EXPECT_FALSE(fit.active[j]) << name << " " << j;
      }
    }
    expect_close(fit.residual_norm, c["residual_norm"], 1e-10, name + " residual");
    expect_close(fit.r_squared, c["r_squared"], 1e-10, name + " R^2");
    expect_optimal(a, b, fit);

    // The normal-equations overload finds the same solution.
    const NnlsFit gram = nnls(normal_equations(a, b));
    for (std::size_t j = 0; j < expected.size(); ++j) {
      EXPECT_NEAR(gram.coefficients[j], fit.coefficients[j], 1e-8 * (1.0 + expected[j])) << name;
      EXPECT_EQ(gram.active[j], fit.active[j]) << name;
    }
    expect_close(gram.residual_norm, c["residual_norm"], 1e-6, name + " gram residual");
    expect_close(gram.r_squared, c["r_squared"], 1e-8, name + " gram R^2");
  }
}

// A tall problem, as in the cost-model decomposition: planted non-negative costs of a
// dozen counters, two of them truly zero, recovered from 300,000 noisy rows.
TEST(StatsNnls, TallMatrixRecoversPlantedCosts) {
  const Eigen::Index rows = 300000, columns = 12;
  std::mt19937_64 engine(5);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::normal_distribution<double> noise(0.0, 0.1);
  Eigen::VectorXd truth(columns);
  truth << 1.0, 0.5, 0.0, 2.0, 0.25, 0.0, 1.5, 0.75, 0.1, 3.0, 0.6, 0.9;
  Eigen::MatrixXd a(rows, columns);
  std::vector<double> b(static_cast<std::size_t>(rows));
  for (Eigen::Index r = 0; r < rows; ++r) {
    a(r, 0) = 1.0;
    for (Eigen::Index c = 1; c < columns; ++c)
      a(r, c) = uniform(engine);
    b[static_cast<std::size_t>(r)] = a.row(r).dot(truth) + noise(engine);
  }
  const NnlsFit fit = nnls(a, b);
  for (Eigen::Index j = 0; j < columns; ++j)
    EXPECT_NEAR(fit.coefficients[static_cast<std::size_t>(j)], truth(j), 0.005) << j;
  EXPECT_NEAR(fit.residual_norm / std::sqrt(static_cast<double>(rows)), 0.1, 0.002);
  expect_optimal(a, b, fit);
}

TEST(StatsNnls, RandomProblemsSatisfyTheOptimalityConditions) {
  std::mt19937_64 engine(9);
  std::normal_distribution<double> normal(0.0, 1.0);
  for (int trial = 0; trial < 50; ++trial) {
    const Eigen::Index rows = 20 + trial, columns = 1 + trial % 8;
    Eigen::MatrixXd a(rows, columns);
    std::vector<double> b(static_cast<std::size_t>(rows));
    for (Eigen::Index r = 0; r < rows; ++r) {
      for (Eigen::Index c = 0; c < columns; ++c)
        a(r, c) = normal(engine);
      b[static_cast<std::size_t>(r)] = normal(engine);
    }
    SCOPED_TRACE(trial);
    expect_optimal(a, b, nnls(a, b));
  }
}

TEST(StatsNnls, DegenerateInput) {
  Eigen::MatrixXd a(4, 2);
  a << 1, 0, 1, 1, 1, 2, 1, 3;
  const NnlsFit constant = nnls(a, std::vector<double>{2, 2, 2, 2});
  EXPECT_NEAR(constant.coefficients[0], 2.0, 1e-12);
  EXPECT_NEAR(constant.coefficients[1], 0.0, 1e-12);
  EXPECT_TRUE(std::isnan(constant.r_squared));
  EXPECT_TRUE(std::isnan(nnls(normal_equations(a, std::vector<double>{2, 2, 2, 2})).r_squared));
  // Collinear columns: still a feasible optimum.
  Eigen::MatrixXd twins(4, 2);
  twins << 1, 1, 2, 2, 3, 3, 4, 4;
  const std::vector<double> b = {1, 2, 3, 4.5};
  const NnlsFit fit = nnls(twins, b);
  EXPECT_NEAR(fit.coefficients[0] + fit.coefficients[1], (1 + 4 + 9 + 18.0) / 30.0, 1e-10);
  EXPECT_THROW(nnls(a, std::vector<double>{1, 2}), std::invalid_argument);
  EXPECT_THROW(nnls(Eigen::MatrixXd(0, 2), std::vector<double>{}), std::invalid_argument);
  NormalEquations broken = normal_equations(a, std::vector<double>{1, 2, 3, 4});
  broken.correlation.resize(3);
  EXPECT_THROW(nnls(broken), std::invalid_argument);
}

}  // namespace
}  // namespace nrmlab::analysis::stats
