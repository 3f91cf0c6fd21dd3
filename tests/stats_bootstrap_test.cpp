// The moving-block bootstrap by its properties: numpy's generator cannot be matched, so
// the tests check determinism, agreement with the analytic interval on iid data, and the
// widening on autocorrelated data that is the reason to resample blocks.
#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "analysis/stats/bootstrap.hpp"
#include "analysis/stats/descriptive.hpp"

namespace nrmlab::analysis::stats {
namespace {

double mean_of(std::span<const double> values) {
  return mean(values);
}

std::vector<double> ar1(std::size_t n, double phi, std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> y(n);
  double state = normal(engine) / std::sqrt(1.0 - phi * phi);
  for (double& v : y) {
    v = state;
    state = phi * state + normal(engine);
  }
  return y;
}

TEST(StatsBootstrap, DefaultBlockLengthIsTheCubeRoot) {
  EXPECT_EQ(default_block_length(1), 1u);
  EXPECT_EQ(default_block_length(2), 1u);
  EXPECT_EQ(default_block_length(10), 2u);
  EXPECT_EQ(default_block_length(1000), 10u);
  EXPECT_EQ(default_block_length(1000000), 100u);
}

TEST(StatsBootstrap, DeterministicForASeed) {
  const std::vector<double> y = ar1(300, 0.5, 1);
  BootstrapOptions options;
  options.seed = 42;
  const BootstrapInterval a = block_bootstrap_ci(y, mean_of, options);
  const BootstrapInterval b = block_bootstrap_ci(y, mean_of, options);
  EXPECT_EQ(a.low, b.low);
  EXPECT_EQ(a.high, b.high);
  EXPECT_EQ(a.block_length, 7u);  // round(300^(1/3)) = round(6.69)
  EXPECT_EQ(a.replicates, 999u);
  options.seed = 43;
  const BootstrapInterval c = block_bootstrap_ci(y, mean_of, options);
  EXPECT_NE(a.low, c.low);
  EXPECT_EQ(a.estimate, c.estimate);
  EXPECT_EQ(a.estimate, mean(y));
}

TEST(StatsBootstrap, IidMeanIntervalIsCloseToTheTInterval) {
  const std::size_t n = 500;
  std::mt19937_64 engine(2);
  std::normal_distribution<double> normal(10.0, 2.0);
  std::vector<double> y(n);
  for (double& v : y)
    v = normal(engine);
  const BootstrapInterval interval = block_bootstrap_ci(y, mean_of);
  const boost::math::students_t t(static_cast<double>(n - 1));
  const double half_width = boost::math::quantile(t, 0.975) * standard_deviation(y, 1) /
                            std::sqrt(static_cast<double>(n));
  EXPECT_NEAR((interval.high - interval.low) / (2.0 * half_width), 1.0, 0.15);
  EXPECT_LT(interval.low, interval.estimate);
  EXPECT_GT(interval.high, interval.estimate);
  EXPECT_NEAR(0.5 * (interval.low + interval.high), interval.estimate, 0.3 * half_width);
}

TEST(StatsBootstrap, BlocksWidenTheIntervalOfAnAutocorrelatedSeries) {
  const std::vector<double> y = ar1(1000, 0.7, 3);
  const BootstrapInterval blocks = block_bootstrap_ci(y, mean_of);
  BootstrapOptions iid;
  iid.block_length = 1;
  const BootstrapInterval independent = block_bootstrap_ci(y, mean_of, iid);
  EXPECT_EQ(blocks.block_length, 10u);
  // The long-run variance is (1 + phi) / (1 - phi) = 5.7 times the iid one; blocks of 10
  // recover most of the ~2.4x width.
  EXPECT_GT((blocks.high - blocks.low) / (independent.high - independent.low), 1.5);
  EXPECT_LT(blocks.low, blocks.estimate);
  EXPECT_GT(blocks.high, blocks.estimate);
}

TEST(StatsBootstrap, SlopeIntervalOfPairsResampledInBlocks) {
  const std::size_t n = 800;
  const std::vector<double> errors = ar1(n, 0.8, 4);
  std::vector<double> x(n), y(n);
  for (std::size_t i = 0; i < n; ++i) {
    x[i] = static_cast<double>(i);
    y[i] = 1.0 + 0.01 * x[i] + errors[i];
  }
  const BootstrapInterval blocks = block_bootstrap_slope_ci(x, y);
  EXPECT_LT(blocks.low, blocks.estimate);
  EXPECT_GT(blocks.high, blocks.estimate);
  EXPECT_LT(blocks.low, 0.01);
  EXPECT_GT(blocks.high, 0.01);
  BootstrapOptions iid;
  iid.block_length = 1;
  const BootstrapInterval independent = block_bootstrap_slope_ci(x, y, iid);
  EXPECT_GT((blocks.high - blocks.low) / (independent.high - independent.low), 1.5);
  // Same seed, same interval.
  EXPECT_EQ(block_bootstrap_slope_ci(x, y).low, blocks.low);
}

TEST(StatsBootstrap, DropsUndefinedReplicatesAndRejectsBadOptions) {
  // Half the x are equal: some replicates have constant x and no slope.
  const std::vector<double> x = {0, 0, 0, 0, 0, 0, 1, 2}, y = {1, 2, 1, 2, 1, 2, 3, 5};
  BootstrapOptions options;
  options.block_length = 4;
  const BootstrapInterval interval = block_bootstrap_slope_ci(x, y, options);
  EXPECT_LT(interval.replicates, 999u);
  EXPECT_GT(interval.replicates, 0u);
  EXPECT_FALSE(std::isnan(interval.low));

  const std::vector<double> y2 = {1, 2, 3};
  EXPECT_THROW(block_bootstrap_ci(std::vector<double>{1}, mean_of), std::invalid_argument);
  options.block_length = 4;
  EXPECT_THROW(block_bootstrap_ci(y2, mean_of, options), std::invalid_argument);
  options.block_length = 0;
  EXPECT_THROW(block_bootstrap_ci(y2, mean_of, options), std::invalid_argument);
  BootstrapOptions bad;
  bad.replicates = 0;
  EXPECT_THROW(block_bootstrap_ci(y2, mean_of, bad), std::invalid_argument);
  bad = {};
  bad.confidence = 1.0;
  EXPECT_THROW(block_bootstrap_ci(y2, mean_of, bad), std::invalid_argument);
  EXPECT_THROW(block_bootstrap_slope_ci(y2, std::vector<double>{1, 2}), std::invalid_argument);
}

}  // namespace
}  // namespace nrmlab::analysis::stats
