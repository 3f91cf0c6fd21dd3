// Brown-Forsythe, Welch's t, Mann-Whitney U and TOST against scipy/statsmodels
// (tests/data/make_stats_reference.py).
#include <cmath>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "analysis/stats/group_tests.hpp"
#include "stats_reference.hpp"

namespace nrmlab::analysis::stats {
namespace {

using testing::expect_close;
using testing::numbers;
using testing::reference;

TEST(StatsGroupTests, BrownForsytheMatchesScipyLeveneMedian) {
  for (const auto& c : reference()["brown_forsythe"]) {
    const std::string name = c["name"];
    std::vector<std::vector<double>> storage;
    for (const auto& g : c["groups"])
      storage.push_back(numbers(g));
    const std::vector<std::span<const double>> groups(storage.begin(), storage.end());
    const FTest f = brown_forsythe(groups);
    expect_close(f.f, c["f"], 1e-12, name + " F");
    expect_close(f.p, c["p"], 1e-10, name + " p");
    EXPECT_EQ(f.df1, static_cast<double>(storage.size() - 1));
  }
}

TEST(StatsGroupTests, WelchMatchesScipyTtestInd) {
  for (const auto& c : reference()["welch"]) {
    const std::string name = c["name"];
    const WelchT w = welch_t_test(numbers(c["a"]), numbers(c["b"]));
    expect_close(w.t, c["t"], 1e-12, name + " t");
    expect_close(w.df, c["df"], 1e-12, name + " df");
    expect_close(w.p, c["p"], 1e-9, name + " p");
    expect_close(w.mean_difference, c["mean_difference"], 1e-12, name + " difference");
  }
}

TEST(StatsGroupTests, MannWhitneyMatchesScipyAsymptotic) {
  for (const auto& c : reference()["mann_whitney"]) {
    const std::string name = c["name"];
    const MannWhitney m = mann_whitney_u(numbers(c["a"]), numbers(c["b"]));
    EXPECT_EQ(m.u, c["u"].get<double>()) << name;
    expect_close(m.p, c["p"], 1e-10, name + " p");
  }
}

TEST(StatsGroupTests, TostMatchesStatsmodelsTtostInd) {
  for (const auto& c : reference()["tost"]) {
    const std::string name = c["name"];
    const Tost t = tost(numbers(c["a"]), numbers(c["b"]), c["margin"], 0.05);
    expect_close(t.p, c["p"], 1e-9, name + " p");
    expect_close(t.t_lower, c["t_lower"], 1e-12, name + " t lower");
    expect_close(t.p_lower, c["p_lower"], 1e-9, name + " p lower");
    expect_close(t.t_upper, c["t_upper"], 1e-12, name + " t upper");
    expect_close(t.p_upper, c["p_upper"], 1e-9, name + " p upper");
    expect_close(t.df, c["df"], 1e-12, name + " df");
    EXPECT_EQ(t.equivalent, c["p"].get<double>() < 0.05) << name;
  }
  const auto& c = reference()["tost"];
  EXPECT_TRUE(tost(numbers(c[0]["a"]), numbers(c[0]["b"]), 3.0).equivalent);
  EXPECT_FALSE(tost(numbers(c[1]["a"]), numbers(c[1]["b"]), 2.0).equivalent);
}

TEST(StatsGroupTests, ConstantDataIsUndefined) {
  const std::vector<double> fives = {5, 5, 5}, sixes = {6, 6, 6, 6};
  const WelchT w = welch_t_test(fives, sixes);
  EXPECT_TRUE(std::isnan(w.t));
  EXPECT_TRUE(std::isnan(w.p));
  EXPECT_EQ(w.mean_difference, -1.0);
  EXPECT_TRUE(std::isnan(mann_whitney_u(fives, fives).p));
  const Tost t = tost(fives, sixes, 2.0);
  EXPECT_TRUE(std::isnan(t.p));
  EXPECT_FALSE(t.equivalent);
  const FTest f = brown_forsythe({fives, sixes});
  EXPECT_TRUE(std::isnan(f.f));
  EXPECT_TRUE(std::isnan(f.p));
  // Within-group spread of the deviations 0, between-group spread not: F = inf, p = 0.
  const std::vector<double> spread = {1, 1, 3, 3};
  const FTest infinite = brown_forsythe({spread, sixes});
  EXPECT_TRUE(std::isinf(infinite.f));
  EXPECT_EQ(infinite.p, 0.0);
}

TEST(StatsGroupTests, RejectsTooFewPoints) {
  const std::vector<double> one = {1}, two = {1, 2}, empty;
  EXPECT_THROW(brown_forsythe({two}), std::invalid_argument);
  EXPECT_THROW(brown_forsythe({two, empty}), std::invalid_argument);
  EXPECT_THROW(brown_forsythe({one, one}), std::invalid_argument);
  EXPECT_THROW(welch_t_test(one, two), std::invalid_argument);
  EXPECT_THROW(mann_whitney_u(empty, two), std::invalid_argument);
  EXPECT_THROW(tost(two, two, 0.0), std::invalid_argument);
  EXPECT_THROW(tost(two, two, 1.0, 1.5), std::invalid_argument);
  EXPECT_THROW(tost(one, two, 1.0), std::invalid_argument);
}

}  // namespace
}  // namespace nrmlab::analysis::stats
