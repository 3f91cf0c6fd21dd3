// PELT against exact optimal partitioning (an O(n^2) dynamic programme written here), and
// on planted mean shifts.
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "analysis/stats/changepoint.hpp"

namespace nrmlab::analysis::stats {
namespace {

// Sum of squared deviations from the mean of y[begin, end), two-pass.
double segment_cost(const std::vector<double>& y, std::size_t begin, std::size_t end) {
  double mean = 0.0;
  for (std::size_t i = begin; i < end; ++i)
    mean += y[i];
  mean /= static_cast<double>(end - begin);
  double cost = 0.0;
  for (std::size_t i = begin; i < end; ++i)
    cost += (y[i] - mean) * (y[i] - mean);
  return cost;
}

struct Partition {
  double penalised_cost = 0.0;
  std::vector<std::size_t> change_points;
};

// Optimal partitioning (Jackson et al. 2005): every last change point for every end.
Partition optimal_partition(const std::vector<double>& y, double penalty, std::size_t m) {
  const std::size_t n = y.size();
  std::vector<double> best(n + 1, std::numeric_limits<double>::infinity());
  std::vector<std::size_t> last(n + 1, 0);
  best[0] = -penalty;
  for (std::size_t end = m; end <= n; ++end) {
    for (std::size_t tau = 0; tau + m <= end; ++tau) {
      if (!std::isfinite(best[tau])) continue;
      const double value = best[tau] + segment_cost(y, tau, end) + penalty;
      if (value < best[end]) {
        best[end] = value;
        last[end] = tau;
      }
    }
  }
  Partition p{best[n], {}};
  for (std::size_t end = n; last[end] > 0; end = last[end])
    p.change_points.insert(p.change_points.begin(), last[end]);
  return p;
}

double penalised_cost(const std::vector<double>& y, const ChangePoints& c) {
  double total = static_cast<double>(c.change_points.size()) * c.penalty;
  std::size_t begin = 0;
  for (std::size_t s = 0; s <= c.change_points.size(); ++s) {
    const std::size_t end = s < c.change_points.size() ? c.change_points[s] : y.size();
    total += segment_cost(y, begin, end);
    begin = end;
  }
  return total;
}

std::vector<double> noise(std::size_t n, double sigma, std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::normal_distribution<double> normal(0.0, sigma);
  std::vector<double> y(n);
  for (double& v : y)
    v = normal(engine);
  return y;
}

TEST(StatsChangepoint, PeltEqualsOptimalPartitioning) {
  std::mt19937_64 engine(3);
  std::uniform_int_distribution<std::size_t> length(10, 90), segment(1, 4), shifts(0, 4);
  std::uniform_real_distribution<double> penalty(0.5, 12.0), level(-3.0, 3.0);
  int with_changes = 0;
  for (int trial = 0; trial < 150; ++trial) {
    std::vector<double> y = noise(length(engine), 1.0, 100 + static_cast<std::uint64_t>(trial));
    // Plant up to four level shifts at random places.
    for (std::size_t k = shifts(engine); k > 0; --k) {
      const std::size_t at = std::uniform_int_distribution<std::size_t>(1, y.size() - 1)(engine);
      const double jump = level(engine);
      for (std::size_t i = at; i < y.size(); ++i)
        y[i] += jump;
    }
    const double beta = penalty(engine);
    const std::size_t m = segment(engine);
    SCOPED_TRACE(::testing::Message()
                 << "trial " << trial << " n " << y.size() << " beta " << beta << " m " << m);
    const ChangePoints pelt_result = pelt(y, beta, m);
    const Partition exact = optimal_partition(y, beta, m);
    EXPECT_NEAR(penalised_cost(y, pelt_result), exact.penalised_cost,
                1e-9 * (1.0 + std::fabs(exact.penalised_cost)));
    EXPECT_EQ(pelt_result.change_points, exact.change_points);
    ASSERT_EQ(pelt_result.segment_means.size(), pelt_result.change_points.size() + 1);
    std::size_t previous = 0;
    for (const std::size_t start : pelt_result.change_points) {
      EXPECT_GE(start - previous, m);
      previous = start;
    }
    EXPECT_GE(y.size() - previous, m);
    with_changes += !exact.change_points.empty();
  }
  EXPECT_GT(with_changes, 30);  // the comparison exercised real segmentations
}

// Shifts of 3 noise standard deviations: smaller ones are found too, but their location
// is only known to within a few points (the argmax of a random walk), not +-2.
TEST(StatsChangepoint, FindsPlantedShifts) {
  std::vector<double> single = noise(400, 1.0, 21);
  for (std::size_t i = 250; i < single.size(); ++i)
    single[i] += 3.0;
  const ChangePoints one = pelt(single);
  ASSERT_EQ(one.change_points.size(), 1u);
  EXPECT_NEAR(static_cast<double>(one.change_points[0]), 250.0, 2.0);
  EXPECT_NEAR(one.segment_means[0], 0.0, 0.25);
  EXPECT_NEAR(one.segment_means[1], 3.0, 0.3);

  std::vector<double> twice = noise(600, 0.5, 22);
  for (std::size_t i = 0; i < twice.size(); ++i)
    twice[i] += 10.0 + (i >= 150 ? 1.5 : 0.0) - (i >= 420 ? 2.5 : 0.0);
  const ChangePoints two = pelt(twice);
  ASSERT_EQ(two.change_points.size(), 2u);
  EXPECT_NEAR(static_cast<double>(two.change_points[0]), 150.0, 2.0);
  EXPECT_NEAR(static_cast<double>(two.change_points[1]), 420.0, 2.0);
  EXPECT_NEAR(two.segment_means[2], 9.0, 0.15);
}

TEST(StatsChangepoint, ConstantAndPureNoiseHaveNoChanges) {
  const ChangePoints constant = pelt(std::vector<double>(500, 4.25));
  EXPECT_TRUE(constant.change_points.empty());
  ASSERT_EQ(constant.segment_means.size(), 1u);
  EXPECT_EQ(constant.segment_means[0], 4.25);
  EXPECT_EQ(pelt(std::vector<double>(50, 1.0), 0.0).change_points.size(), 0u);
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    const std::vector<double> y = noise(3000, 2.0, seed);
    const ChangePoints c = pelt(y);
    EXPECT_TRUE(c.change_points.empty()) << "seed " << seed;
    EXPECT_NEAR(c.cost, segment_cost(y, 0, y.size()), 1e-6 * c.cost);
  }
}

TEST(StatsChangepoint, DefaultPenaltyEstimatesTheNoiseRobustly) {
  std::vector<double> y = noise(20000, 3.0, 8);
  const double clean = default_change_penalty(y);
  EXPECT_NEAR(clean / (3.0 * 9.0 * std::log(20000.0)), 1.0, 0.05);
  // Level shifts barely move an estimate built on differences.
  for (std::size_t i = 0; i < y.size(); ++i)
    y[i] += 20.0 * static_cast<double>(i / 5000);
  EXPECT_NEAR(default_change_penalty(y) / clean, 1.0, 0.02);
  // Quantised data with mostly equal neighbours still gets a positive penalty.
  std::vector<double> steps(1000, 0.0);
  for (std::size_t i = 0; i < steps.size(); ++i)
    steps[i] = static_cast<double>(i % 10 == 0) + (i >= 500 ? 5.0 : 0.0);
  EXPECT_GT(default_change_penalty(steps), 0.0);
  EXPECT_GT(default_change_penalty(std::vector<double>{1, 2, 3, 4, 5}), 0.0);  // exact line
  EXPECT_THROW(default_change_penalty(std::vector<double>{1, 2}), std::invalid_argument);
}

TEST(StatsChangepoint, HundredThousandPoints) {
  std::vector<double> y = noise(100000, 1.0, 99);
  const std::vector<std::size_t> planted = {12000, 40000, 40500, 77777};
  for (std::size_t k = 0; k < planted.size(); ++k)
    for (std::size_t i = planted[k]; i < y.size(); ++i)
      y[i] += k % 2 == 0 ? 3.0 : -3.5;
  const ChangePoints c = pelt(y);
  ASSERT_EQ(c.change_points.size(), planted.size());
  for (std::size_t k = 0; k < planted.size(); ++k)
    EXPECT_NEAR(static_cast<double>(c.change_points[k]), static_cast<double>(planted[k]), 2.0);
}

TEST(StatsChangepoint, RejectsBadArguments) {
  const std::vector<double> y = {1, 2, 3, 4};
  EXPECT_THROW(pelt(y, 1.0, 0), std::invalid_argument);
  EXPECT_THROW(pelt(y, 1.0, 5), std::invalid_argument);
  EXPECT_THROW(pelt(y, -1.0), std::invalid_argument);
  EXPECT_THROW(pelt(y, std::numeric_limits<double>::infinity()), std::invalid_argument);
  EXPECT_THROW(pelt(y, std::numeric_limits<double>::quiet_NaN()), std::invalid_argument);
  EXPECT_THROW(pelt(std::vector<double>{1, NAN, 3}, 1.0), std::invalid_argument);
  EXPECT_THROW(pelt(std::vector<double>{}, 1.0, 1), std::invalid_argument);
}

}  // namespace
}  // namespace nrmlab::analysis::stats
