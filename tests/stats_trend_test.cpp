// Theil-Sen against scipy.stats.theilslopes and Mann-Kendall against the direct O(n^2)
// definition and scipy.stats.kendalltau (tests/data/make_stats_reference.py), plus the
// O(n log n) count against a brute-force one in C++.
#include <cmath>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "analysis/stats/mann_kendall.hpp"
#include "analysis/stats/theil_sen.hpp"
#include "stats_calibration.hpp"
#include "stats_reference.hpp"

namespace nrmlab::analysis::stats {
namespace {

using testing::expect_close;
using testing::numbers;
using testing::reference;

TEST(StatsTheilSen, MatchesScipyTheilslopes) {
  for (const auto& c : reference()["theil_sen"]) {
    const std::string name = c["name"];
    const auto x = numbers(c["x"]), y = numbers(c["y"]);
    for (const auto& f : c["fits"]) {
      const double confidence = f["confidence"];
      const std::string label = name + " at " + std::to_string(confidence);
      const TheilSen separate = theil_sen(x, y, confidence);
      const TheilSen joint = theil_sen(x, y, confidence, TheilSenIntercept::Joint);
      // Medians of the same slopes: exactly scipy's numbers.
      EXPECT_EQ(separate.slope, f["slope"].get<double>()) << label;
      EXPECT_EQ(separate.ci_low, f["low"].get<double>()) << label;
      EXPECT_EQ(separate.ci_high, f["high"].get<double>()) << label;
      expect_close(separate.intercept, f["intercept_separate"], 1e-14, label + " intercept");
      expect_close(joint.intercept, f["intercept_joint"], 1e-14, label + " joint intercept");
      EXPECT_EQ(joint.slope, separate.slope);
      EXPECT_EQ(separate.n, x.size());
    }
  }
}

TEST(StatsTheilSen, IgnoresOutliersThatMoveLeastSquares) {
  const auto& c = reference()["theil_sen"][2];  // slope 0.2 with three +40 outliers
  const TheilSen fit = theil_sen(numbers(c["x"]), numbers(c["y"]));
  EXPECT_NEAR(fit.slope, 0.2, 0.05);
  EXPECT_LT(fit.ci_low, fit.slope);
  EXPECT_GT(fit.ci_high, fit.slope);
}

TEST(StatsTheilSen, UndefinedAndInvalidInput) {
  const TheilSen vertical = theil_sen(std::vector<double>{2, 2, 2}, std::vector<double>{1, 5, 3});
  EXPECT_TRUE(std::isnan(vertical.slope));
  EXPECT_TRUE(std::isnan(vertical.intercept));
  EXPECT_TRUE(std::isnan(vertical.ci_low));
  // Constant y: slope 0 exactly.
  const TheilSen flat = theil_sen(std::vector<double>{1, 2, 3, 4}, std::vector<double>{7, 7, 7, 7});
  EXPECT_EQ(flat.slope, 0.0);
  EXPECT_EQ(flat.intercept, 7.0);
  EXPECT_THROW(theil_sen(std::vector<double>{1, 2}, std::vector<double>{1}), std::invalid_argument);
  EXPECT_THROW(theil_sen(std::vector<double>{1}, std::vector<double>{1}), std::invalid_argument);
  EXPECT_THROW(theil_sen(std::vector<double>{1, 2}, std::vector<double>{1, NAN}),
               std::invalid_argument);
  EXPECT_THROW(theil_sen(std::vector<double>{1, 2}, std::vector<double>{1, 2}, 1.0),
               std::invalid_argument);
}

TEST(StatsMannKendall, MatchesTheDirectDefinitionAndScipyTau) {
  for (const auto& c : reference()["mann_kendall"]) {
    const std::string name = c["name"];
    const MannKendall mk = mann_kendall(numbers(c["y"]));
    EXPECT_EQ(mk.s, c["s"].get<std::int64_t>()) << name;
    expect_close(mk.variance, c["variance"], 1e-14, name + " variance");
    expect_close(mk.z, c["z"], 1e-13, name + " z");
    expect_close(mk.p, c["p"], 1e-10, name + " p");
    expect_close(mk.tau, c["tau"], 1e-12, name + " tau");
  }
}

// The merge-sort count against the pair loop, on series with many ties and of lengths that
// are not powers of two (the bottom-up merge's ragged last runs).
TEST(StatsMannKendall, MergeSortCountEqualsThePairLoop) {
  std::mt19937_64 engine(11);
  for (const std::size_t n : {3u, 4u, 5u, 17u, 64u, 100u, 513u, 1000u}) {
    std::uniform_int_distribution<int> level(0, 9);
    std::vector<double> y(n);
    for (std::size_t i = 0; i < n; ++i)
      y[i] = level(engine) + 0.01 * static_cast<double>(i % 7 == 0);
    std::int64_t s = 0;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = i + 1; j < n; ++j)
        s += (y[j] > y[i]) - (y[j] < y[i]);
    EXPECT_EQ(mann_kendall(y).s, s) << n;
  }
}

TEST(StatsMannKendall, MillionPointsMonotone) {
  const std::size_t n = 1000000;
  std::vector<double> y(n);
  for (std::size_t i = 0; i < n; ++i)
    y[i] = static_cast<double>(n - i);  // strictly falling: every pair discordant
  const MannKendall mk = mann_kendall(y);
  EXPECT_EQ(mk.s, -static_cast<std::int64_t>(n * (n - 1) / 2));
  EXPECT_DOUBLE_EQ(mk.tau, -1.0);
  EXPECT_EQ(mk.p, 0.0);  // z is about -1200: below the smallest double
  EXPECT_LT(mk.z, -1000.0);
}

TEST(StatsMannKendall, ConstantSeriesHasNoTrend) {
  const MannKendall mk = mann_kendall(std::vector<double>{3, 3, 3, 3, 3});
  EXPECT_EQ(mk.s, 0);
  EXPECT_EQ(mk.variance, 0.0);
  EXPECT_TRUE(std::isnan(mk.z));
  EXPECT_TRUE(std::isnan(mk.p));
  EXPECT_TRUE(std::isnan(mk.tau));
  EXPECT_THROW(mann_kendall(std::vector<double>{1, 2}), std::invalid_argument);
  EXPECT_THROW(mann_kendall(std::vector<double>{1, NAN, 2}), std::invalid_argument);
  // S = 0 exactly: z = 0 (no continuity correction towards 0 from 0) and p = 1.
  const MannKendall zero = mann_kendall(std::vector<double>{2, 1, 1, 2});
  EXPECT_EQ(zero.s, 0);
  EXPECT_EQ(zero.z, 0.0);
  EXPECT_DOUBLE_EQ(zero.p, 1.0);
  // S = 1: the correction takes it to exactly 0 as well.
  EXPECT_EQ(mann_kendall(std::vector<double>{1, 3, 2}).s, 1);
  EXPECT_EQ(mann_kendall(std::vector<double>{1, 3, 2}).z, 0.0);
}

TEST(StatsMannKendallCorrected, KeepsSAndTauAndScalesTheVarianceByTheRatio) {
  std::mt19937_64 engine(5);
  const auto y = testing::ar1_steps(engine, 2000, 0.9, 0.1, 0.0);
  const MannKendall plain = mann_kendall(y), corrected = mann_kendall_corrected(y);
  EXPECT_EQ(corrected.s, plain.s);
  EXPECT_EQ(corrected.tau, plain.tau);
  EXPECT_EQ(plain.variance_ratio, 1.0);
  EXPECT_NEAR(corrected.variance, plain.variance * corrected.variance_ratio,
              1e-12 * corrected.variance);
  EXPECT_NEAR(corrected.z * std::sqrt(corrected.variance_ratio), plain.z,
              1e-9 * std::fabs(plain.z));
  EXPECT_GT(corrected.p, plain.p);
  // On average n / n* is the variance inflation of a slope-like sum under AR(1) phi,
  // (1 + phi) / (1 - phi): 1 for independent values, 3 for 0.5, about 17 for 0.9 (the
  // ranks' autocorrelation is a little below the values').
  for (const auto& [phi, low, high] :
       {std::tuple{0.0, 0.85, 1.15}, std::tuple{0.5, 2.4, 3.6}, std::tuple{0.9, 12.0, 24.0}}) {
    double mean = 0.0;
    for (int r = 0; r < 100; ++r)
      mean +=
          mann_kendall_corrected(testing::ar1_steps(engine, 2000, phi, 0.1, 0.0)).variance_ratio /
          100.0;
    EXPECT_GT(mean, low) << phi;
    EXPECT_LT(mean, high) << phi;
  }
}

TEST(StatsMannKendallCorrected, DegenerateSeries) {
  const MannKendall flat = mann_kendall_corrected(std::vector<double>(50, 0.1));
  EXPECT_TRUE(std::isnan(flat.p));
  EXPECT_TRUE(std::isnan(flat.z));
  // Strictly increasing: no residual to estimate autocorrelation from, a certain trend.
  std::vector<double> rising;
  for (int i = 0; i < 200; ++i)
    rising.push_back(std::sqrt(static_cast<double>(i)));
  const MannKendall up = mann_kendall_corrected(rising);
  EXPECT_EQ(up.variance_ratio, 1.0);
  EXPECT_LT(up.p, 1e-4);
  EXPECT_GT(up.z, 0.0);
  EXPECT_THROW(mann_kendall_corrected(std::vector<double>{1, 2}), std::invalid_argument);
  EXPECT_THROW(mann_kendall_corrected(std::vector<double>{1, NAN, 2}), std::invalid_argument);
}

// Size and power as for hac_trend (tests/stats_hac_test.cpp); the plain test is measured
// alongside and must fail from phi 0.5 on. Prints both tables.
TEST(StatsMannKendallCorrected, HoldsItsSizeUnderAutocorrelationAndKeepsPower) {
  const auto plain = [](std::span<const double> y) { return mann_kendall(y).p < 0.05; };
  const auto corrected = [](std::span<const double> y) {
    return mann_kendall_corrected(y).p < 0.05;
  };
  testing::expect_size_and_power("Mann-Kendall", plain, "corrected", corrected, 0.5, 200);
}

}  // namespace
}  // namespace nrmlab::analysis::stats
