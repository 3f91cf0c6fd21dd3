// model.md section 9: the reference dynamics of C256 with the original constants on a
// normally loaded host (a constant synthetic source: cpu 25 %, memory 40 %, avail 135).
#include <cmath>
#include <numeric>

#include <gtest/gtest.h>

#include "model/experiment_runner.hpp"
#include "test_support.hpp"

namespace nrmlab {
namespace {

using testing::ScratchDir;
using testing::StepLog;

class ReferenceDynamics : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s_scratch = new ScratchDir();
    s_log = new StepLog();
    model::RunConfig config = testing::quick_config(s_scratch->path(), 3000);
    model::RunHooks hooks;
    hooks.observer = s_log;
    s_result = new model::ExperimentResult(model::run_experiment(config, hooks));
  }
  static void TearDownTestSuite() {
    delete s_result;
    delete s_log;
    delete s_scratch;
  }
  static const model::ConditionResult& condition(const std::string& name) {
    for (const auto& c : s_result->conditions)
      if (c.name == name) return c;
    throw std::runtime_error("no condition " + name);
  }

  static ScratchDir* s_scratch;
  static StepLog* s_log;
  static model::ExperimentResult* s_result;
};

ScratchDir* ReferenceDynamics::s_scratch = nullptr;
StepLog* ReferenceDynamics::s_log = nullptr;
model::ExperimentResult* ReferenceDynamics::s_result = nullptr;

double round3(double value) {
  return std::round(value * 1000.0) / 1000.0;
}

TEST_F(ReferenceDynamics, WithoutThrottlingThePopulationDoublesToTheCapAtStepSix) {
  for (const char* name : {"OFF-OFF", "ON-OFF"}) {
    const auto& history = condition(name).population_history;
    ASSERT_EQ(history.size(), 3000u);
    const std::vector<std::int64_t> start(history.begin(), history.begin() + 7);
    EXPECT_EQ(start, (std::vector<std::int64_t>{2, 4, 8, 16, 32, 64, 100})) << name;
    EXPECT_EQ(condition(name).max_population, 100) << name;
    EXPECT_EQ(condition(name).final_population, 100) << name;
  }
}

TEST_F(ReferenceDynamics, NobodyDiesAndEvolveCallsSettleAt416) {
  for (int index : {0, 1}) {
    const auto steps = s_log->condition(index);
    ASSERT_EQ(steps.size(), 3000u);
    EXPECT_EQ(steps.back().evolve_calls, 416u);
    EXPECT_EQ(steps[100].evolve_calls, 416u);
    const auto deaths = std::accumulate(steps.begin(), steps.end(), std::uint64_t{0},
                                        [](auto sum, const auto& s) { return sum + s.deaths; });
    EXPECT_EQ(deaths, 0u);
  }
}

TEST_F(ReferenceDynamics, MeanPopulationsMatchTheOriginal) {
  EXPECT_DOUBLE_EQ(condition("OFF-OFF").mean_population, 299526.0 / 3000.0);
  EXPECT_EQ(round3(condition("OFF-OFF").mean_population), 99.842);
  EXPECT_EQ(round3(condition("ON-OFF").mean_population), 99.842);
  EXPECT_EQ(round3(condition("OFF-ON").mean_population), 94.670);
  EXPECT_EQ(round3(condition("ON-ON").mean_population), 94.670);
}

TEST_F(ReferenceDynamics, ThrottlingGrowsAChainOfEightThenBurstsEveryHundredSteps) {
  for (int index : {2, 3}) {
    const auto steps = s_log->condition(index);
    const auto& history = s_result->conditions[static_cast<std::size_t>(index)].population_history;
    // One spawn per step down the chain: depths 0..7 exist by t = 6.
    EXPECT_EQ(history[6], 8);
    EXPECT_EQ(history[99], 8);
    // Once the chain is complete, evolve calls are 8 + 7 + ... + 1 = 36 per step.
    EXPECT_EQ(steps[7].evolve_calls, 36u);
    EXPECT_EQ(steps[99].evolve_calls, 36u);
    // The first cooldown expires at t = 100: bursts, 36 agents by t ~ 150, 100 by t ~ 250.
    EXPECT_GT(history[101], history[99]);
    EXPECT_EQ(history[150], 36);
    EXPECT_EQ(history[199], 36);
    EXPECT_EQ(history[250], 100);
    EXPECT_EQ(history[2999], 100);
    EXPECT_EQ(steps.back().evolve_calls, 590u);
  }
}

TEST_F(ReferenceDynamics, C256IsAdditiveWithFoldChange0948) {
  ASSERT_TRUE(s_result->complete);
  ASSERT_TRUE(s_result->synergy.has_value());
  const auto& synergy = *s_result->synergy;
  EXPECT_EQ(synergy.classification, "ADDITIVE");
  EXPECT_DOUBLE_EQ(synergy.synergy, 0.0);
  EXPECT_DOUBLE_EQ(synergy.effect_a, 0.0);
  EXPECT_EQ(round3(synergy.effect_b), -5.172);
  ASSERT_TRUE(synergy.fold_change.has_value());
  EXPECT_EQ(round3(*synergy.fold_change), 0.948);
}

TEST_F(ReferenceDynamics, PoolingAccumulatesAboutOneClusterEntryPerStep) {
  // Pooling conditions grow the never-cleared table; the others never detect clusters.
  EXPECT_EQ(condition("OFF-OFF").pattern_count_history.back(), 0);
  const auto pattern_count = condition("ON-OFF").pattern_count_history.back();
  EXPECT_GT(pattern_count, 2000);
  EXPECT_LT(pattern_count, 6000);
  // Pair checks follow the population at detection time: N(N-1)/2 = 4950 at N = 100.
  EXPECT_EQ(s_log->condition(1).back().resonance_pairs, 4950u);
  EXPECT_EQ(s_log->condition(0).back().resonance_pairs, 0u);
}

}  // namespace
}  // namespace nrmlab
