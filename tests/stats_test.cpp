// The statistics core against reference values computed once with scipy/numpy
// (tests/data/make_stats_reference.py wrote tests/data/stats_reference.json).
#include <algorithm>
#include <boost/math/distributions/binomial.hpp>
#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "analysis/stats/correlation.hpp"
#include "analysis/stats/ols.hpp"
#include "analysis/stats/p_values.hpp"
#include "analysis/stats/ranks.hpp"
#include "stats_reference.hpp"

namespace nrmlab::analysis::stats {
namespace {

using testing::expect_close;
using testing::numbers;
using testing::reference;

TEST(Stats, AverageRanksMatchScipy) {
  for (const auto& c : reference()["ranks"])
    EXPECT_EQ(average_ranks(numbers(c["x"])), numbers(c["ranks"]));
}

TEST(Stats, PearsonAndSpearmanMatchScipyDownToTinyPValues) {
  for (const auto& c : reference()["correlation"]) {
    const std::string name = c["name"];
    const auto x = numbers(c["x"]), y = numbers(c["y"]);
    const Correlation p = pearson(x, y), s = spearman(x, y);
    expect_close(p.r, c["pearson_r"], 1e-12, name + " pearson r");
    expect_close(p.p, c["pearson_p"], 1e-8, name + " pearson p");
    expect_close(s.r, c["spearman_r"], 1e-12, name + " spearman r");
    expect_close(s.p, c["spearman_p"], 1e-8, name + " spearman p");
    EXPECT_GT(p.p, 0.0) << name << ": a survival function, not 1 - cdf";
  }
}

TEST(Stats, ConstantInputHasNoCorrelation) {
  const std::vector<double> x = {1, 2, 3, 4, 5}, constant = {7, 7, 7, 7, 7};
  EXPECT_TRUE(std::isnan(pearson(x, constant).r));
  EXPECT_TRUE(std::isnan(spearman(constant, x).p));
  EXPECT_TRUE(std::isnan(pearson(std::vector<double>{1, 2}, std::vector<double>{3, 4}).r));
  EXPECT_THROW(pearson(x, std::vector<double>{1, 2}), std::invalid_argument);
}

TEST(Stats, ConstantInputStaysConstantDespiteRounding) {
  // The mean of 300 copies of 0.001 is not exactly 0.001, so deviations from the computed
  // mean are tiny but not zero; a constant series must still give NaN, not a made-up r.
  const std::vector<double> constant(300, 0.001);
  std::vector<double> x(300);
  for (std::size_t i = 0; i < x.size(); ++i)
    x[i] = static_cast<double>(i % 7);
  EXPECT_TRUE(std::isnan(pearson(x, constant).r));
  EXPECT_TRUE(std::isnan(linear_fit(x, constant).r_squared));
  EXPECT_TRUE(std::isnan(quadratic_fit(x, constant).fit.r_squared));
}

TEST(Stats, LinearFitMatchesScipyLinregress) {
  for (const auto& c : reference()["linear"]) {
    const std::string name = c["name"];
    const OlsFit fit = linear_fit(numbers(c["x"]), numbers(c["y"]));
    expect_close(fit.coefficients[0], c["intercept"], 1e-10, name + " intercept");
    expect_close(fit.coefficients[1], c["slope"], 1e-9, name + " slope");
    expect_close(fit.r_squared, c["r_squared"], 1e-9, name + " R^2");
    expect_close(fit.standard_errors[1], c["slope_se"], 1e-9, name + " slope se");
    expect_close(fit.standard_errors[0], c["intercept_se"], 1e-9, name + " intercept se");
    expect_close(fit.p[1], c["slope_p"], 1e-7, name + " slope p");
  }
}

TEST(Stats, QuadraticFitOnScaledXMatchesLapack) {
  for (const auto& c : reference()["quadratic"]) {
    const QuadraticFit q = quadratic_fit(numbers(c["x"]), numbers(c["y"]));
    expect_close(q.x_mean, c["x_mean"], 1e-14, "mean");
    expect_close(q.x_scale, c["x_scale"], 1e-14, "scale");
    // Fixed labels: building them with "b" + std::to_string(k) trips GCC 12's -Wrestrict
    // false positive at -O3.
    const char* const coefficient[] = {"b0", "b1", "b2"};
    const char* const error[] = {"se0", "se1", "se2"};
    const char* const p_value[] = {"p0", "p1", "p2"};
    for (std::size_t k = 0; k < 3; ++k) {
      expect_close(q.fit.coefficients[k], c["coefficients"][k], 1e-9, coefficient[k]);
      expect_close(q.fit.standard_errors[k], c["standard_errors"][k], 1e-8, error[k]);
      expect_close(q.fit.p[k], c["p"][k], 1e-6, p_value[k]);
    }
    expect_close(q.fit.r_squared, c["r_squared"], 1e-10, "R^2");
    EXPECT_GT(q.fit.coefficients[2], 0.0);  // an accelerating series: positive curvature
  }
}

TEST(Stats, OlsRejectsDegenerateDesigns) {
  const std::vector<double> y = {1, 2, 3};
  EXPECT_THROW(linear_fit(std::vector<double>{1, 2}, y), std::invalid_argument);
  EXPECT_THROW(linear_fit(std::vector<double>{5, 5, 5}, y), std::invalid_argument);  // rank 1
  EXPECT_THROW(quadratic_fit(std::vector<double>{5, 5, 5, 5}, std::vector<double>{1, 2, 3, 4}),
               std::invalid_argument);
  EXPECT_TRUE(std::isnan(
      linear_fit(std::vector<double>{1, 2, 3, 4}, std::vector<double>{2, 2, 2, 2}).r_squared));
}

TEST(StatsHolm, AdjustsInInputOrderAndSkipsNaN) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // By hand, m = 4: 0.005 * 4 = 0.02; 0.01 * 3 = 0.03; 0.03 * 2 = 0.06; 0.04 * 1 = 0.04,
  // raised to the running maximum 0.06.
  const std::vector<double> p = {0.01, 0.04, nan, 0.03, 0.005};
  const std::vector<double> adjusted = holm(p);
  ASSERT_EQ(adjusted.size(), 5u);
  EXPECT_DOUBLE_EQ(adjusted[0], 0.03);
  EXPECT_DOUBLE_EQ(adjusted[1], 0.06);
  EXPECT_TRUE(std::isnan(adjusted[2]));
  EXPECT_DOUBLE_EQ(adjusted[3], 0.06);
  EXPECT_DOUBLE_EQ(adjusted[4], 0.02);
  // Capped at 1; ties; a single p is unchanged; empty and all-NaN families.
  EXPECT_EQ(holm(std::vector<double>{0.5, 0.6}), (std::vector<double>{1.0, 1.0}));
  EXPECT_EQ(holm(std::vector<double>{0.02, 0.02, 0.2}), (std::vector<double>{0.06, 0.06, 0.2}));
  EXPECT_EQ(holm(std::vector<double>{0.02}), (std::vector<double>{0.02}));
  EXPECT_TRUE(holm(std::vector<double>{}).empty());
  EXPECT_TRUE(std::isnan(holm(std::vector<double>{nan, nan})[1]));
  EXPECT_THROW(holm(std::vector<double>{0.5, 1.5}), std::invalid_argument);
  EXPECT_THROW(holm(std::vector<double>{-0.1}), std::invalid_argument);
}

// Family-wise error on planted nulls: 10 tests per family, all null, independent and
// (second) equicorrelated; rejecting any at adjusted p < 0.05 may happen in at most 5% of
// families (binomial rule: fail only if the count is improbable, p < 0.001, at 5%). With
// one false null among them Holm must still find it most of the time.
TEST(StatsHolm, ControlsTheFamilyWiseErrorRateOnPlantedNulls) {
  const std::size_t families = 2000, m = 10;
  std::mt19937_64 engine(17);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::size_t independent = 0, correlated = 0, unadjusted = 0, found = 0;
  for (std::size_t f = 0; f < families; ++f) {
    std::vector<double> a(m), b(m), c(m);
    const double shared = normal(engine);
    for (std::size_t k = 0; k < m; ++k) {
      a[k] = two_sided_normal_p(normal(engine));
      b[k] = two_sided_normal_p(0.8 * shared + 0.6 * normal(engine));
      c[k] = k == 0 ? two_sided_normal_p(5.0 + normal(engine)) : a[k];
    }
    const auto any = [](const std::vector<double>& p) {
      return std::any_of(p.begin(), p.end(), [](double v) { return v < 0.05; });
    };
    independent += any(holm(a)) ? 1 : 0;
    correlated += any(holm(b)) ? 1 : 0;
    unadjusted += any(a) ? 1 : 0;
    found += holm(c)[0] < 0.05 ? 1 : 0;
  }
  const boost::math::binomial nominal(static_cast<double>(families), 0.05);
  const auto improbable = [&](std::size_t count) {
    return boost::math::cdf(boost::math::complement(nominal, count - 1.0)) < 1e-3;
  };
  EXPECT_FALSE(improbable(independent)) << independent;
  EXPECT_FALSE(improbable(correlated)) << correlated;
  EXPECT_TRUE(improbable(unadjusted)) << unadjusted;  // 1 - 0.95^10 = 40% without Holm
  EXPECT_GT(found, families * 9 / 10);
}

TEST(Stats, ConstantOutcomeGivesNoSlopeTest) {
  // 0.1 is not a binary fraction: QR leaves rounding-sized residuals and slope, whose ratio
  // was an arbitrary t (and p down to 0).
  const std::vector<double> x = {1, 2, 3, 4, 5, 6, 7, 8}, y(8, 0.1);
  const OlsFit fit = linear_fit(x, y);
  EXPECT_TRUE(std::isnan(fit.p[1]));
  EXPECT_TRUE(std::isnan(fit.t[1]));
  EXPECT_TRUE(std::isnan(fit.r_squared));
  EXPECT_NEAR(fit.coefficients[0], 0.1, 1e-15);
  EXPECT_NEAR(fit.coefficients[1], 0.0, 1e-15);
}

}  // namespace
}  // namespace nrmlab::analysis::stats
