// Engine behaviour beyond the reference dynamics: death paths under low availability, the
// two defect switches, which mechanisms each experiment runs, and sample accounting.
#include <algorithm>
#include <numeric>

#include <gtest/gtest.h>

#include "model/experiment_runner.hpp"
#include "test_support.hpp"

namespace nrmlab {
namespace {

using testing::quick_config;
using testing::ScratchDir;
using testing::StepLog;

model::SourceSpec source(const std::string& text) {
  return model::parse_source_spec(text, model::ReplayGranularity::step, 0);
}

// avail = (100 - 100) + (100 - 99.5) = 0.5: every newborn starts below the death threshold
// and the root loses 0.005 per evolve call.
constexpr const char* k_starving = "synthetic:const:cpu=100,memory=99.5";

TEST(Deaths, NewbornsBelowTheThresholdDieAndTheRootStarvesLater) {
  ScratchDir scratch;
  model::RunConfig config = quick_config(scratch.path(), 2000);
  config.source = source(k_starving);
  config.conditions = {0};
  StepLog log;
  const auto result = model::run_experiment(config, {&log, nullptr, {}});
  const auto steps = log.condition(0);
  const auto& history = result.conditions[0].population_history;

  // The root spawns while it has 10 energy: 12 times (130 - 12 * 10 < 10 after decay).
  std::uint64_t spawns = 0, deaths = 0;
  std::int64_t population = 1;
  for (std::size_t t = 0; t < steps.size(); ++t) {
    spawns += steps[t].spawns;
    deaths += steps[t].deaths;
    population +=
        static_cast<std::int64_t>(steps[t].spawns) - static_cast<std::int64_t>(steps[t].deaths);
    ASSERT_EQ(history[t], population) << "population bookkeeping at step " << t;
  }
  EXPECT_EQ(spawns, 12u);
  EXPECT_EQ(steps[5].deaths, 1u);  // the newborn of step 5 dies in step 5
  EXPECT_EQ(history[5], 1);
  // The root's energy 10 - 0.005 (t + 1) falls below 1 near t = 1800.
  EXPECT_EQ(deaths, 13u);
  EXPECT_EQ(history.back(), 0);
  EXPECT_EQ(history[1700], 1);
  EXPECT_EQ(steps.back().evolve_calls, 0u);  // an extinct population does nothing
}

TEST(Deaths, DeadChildrenKeepBeingEvolvedWhileAnAncestorLives) {
  ScratchDir scratch;
  model::RunConfig config = quick_config(scratch.path(), 100);
  config.source = source(k_starving);
  config.conditions = {0};
  StepLog faithful_log;
  model::run_experiment(config, {&faithful_log, nullptr, {}});
  // Root + its 12 dead children, every step once spawning has stopped.
  EXPECT_EQ(faithful_log.condition(0)[50].evolve_calls, 13u);

  config.params.recursive_evolve = false;
  StepLog fixed_log;
  model::run_experiment(config, {&fixed_log, nullptr, {}});
  EXPECT_EQ(fixed_log.condition(0)[50].evolve_calls, 1u);
}

TEST(Defects, SwitchingThemOffChangesResults) {
  ScratchDir scratch;
  model::RunConfig config = quick_config(scratch.path(), 300);
  config.conditions = {1};  // pooling on
  const auto faithful = model::run_experiment(config);
  config.params.accumulating_clusters = false;
  const auto cleared = model::run_experiment(config);
  // A cleared table holds only the last step's components.
  EXPECT_GT(faithful.conditions[0].pattern_count_history.back(), 200);
  EXPECT_LE(cleared.conditions[0].pattern_count_history.back(), 5);

  config.params.accumulating_clusters = true;
  config.params.recursive_evolve = false;
  StepLog log;
  const auto no_recursion = model::run_experiment(config, {&log, nullptr, {}});
  // Without recursion each list agent is evolved exactly once: calls = population at the
  // start of the step.
  const auto steps = log.condition(1);
  const auto& history = no_recursion.conditions[0].population_history;
  for (std::size_t t = 0; t < steps.size(); ++t) {
    const std::int64_t at_start = t == 0 ? 1 : history[t - 1];
    ASSERT_EQ(steps[t].evolve_calls, static_cast<std::uint64_t>(at_start)) << "step " << t;
  }
  EXPECT_NE(no_recursion.conditions[0].state_digest, faithful.conditions[0].state_digest);
}

// Which mechanisms run in which condition, seen through the work they do: pooling checks
// pairs; H2 and H5 each take one sample per list agent under per-call sampling.
struct DesignCase {
  model::ExperimentId experiment;
  model::Variant variant;
  bool optimized_as_run;
  bool pooling_a, h2_a, h4_a;  // factor A
  bool h4_b, h5_b;             // factor B
};

class ExperimentDesigns : public ::testing::TestWithParam<DesignCase> {};

TEST_P(ExperimentDesigns, EachConditionRunsItsMechanisms) {
  const DesignCase& d = GetParam();
  ScratchDir scratch;
  model::RunConfig config = quick_config(scratch.path(), 30);
  config.experiment = d.experiment;
  config.variant = d.variant;
  config.overheads.sampling = {model::SamplingPolicy::Kind::per_call, 1};
  config.overheads.runs_as_c256 = d.optimized_as_run;
  StepLog log;
  model::run_experiment(config, {&log, nullptr, {}});
  for (int index = 0; index < 4; ++index) {
    const bool a = (index & 1) != 0, b = (index & 2) != 0;
    const auto steps = log.condition(index);
    std::uint64_t population = 1;
    for (std::size_t t = 0; t < steps.size(); ++t) {
      const auto& s = steps[t];
      const std::uint64_t per_agent = ((a && d.h2_a) ? 1u : 0u) + ((b && d.h5_b) ? 1u : 0u);
      const std::uint64_t expected =
          (t == 0 ? 1u : 0u) + s.evolve_calls + s.spawns + per_agent * population;
      ASSERT_EQ(s.metric_samples, expected) << "condition " << index << " step " << t;
      ASSERT_EQ(s.resonance_pairs > 0, a && d.pooling_a && population > 1) << "condition " << index;
      population = s.agents_alive;
    }
    // Throttling shows as a chain (one spawn per step) instead of doubling.
    const bool throttled = (a && d.h4_a) || (b && d.h4_b);
    EXPECT_EQ(steps[2].agents_alive, throttled ? 4u : 8u) << "condition " << index;
  }
}

INSTANTIATE_TEST_SUITE_P(
    AllExperiments, ExperimentDesigns,
    ::testing::Values(DesignCase{model::ExperimentId::c256, model::Variant::as_intended, false,
                                 true, false, false, true, false},
                      DesignCase{model::ExperimentId::c257, model::Variant::as_intended, false,
                                 true, false, false, false, true},
                      DesignCase{model::ExperimentId::c258, model::Variant::as_intended, false,
                                 false, true, false, true, false},
                      DesignCase{model::ExperimentId::c259, model::Variant::as_intended, false,
                                 false, true, false, false, true},
                      DesignCase{model::ExperimentId::c260, model::Variant::as_intended, false,
                                 false, false, true, false, true},
                      // C259 as run: its "H2" factor executed the pooling code.
                      DesignCase{model::ExperimentId::c259, model::Variant::as_run, false, true,
                                 false, false, false, true},
                      // The optimized C257-C260 scripts were clones of C256.
                      DesignCase{model::ExperimentId::c258, model::Variant::as_run, true, true,
                                 false, false, true, false},
                      // ... which the as-intended variant does not reproduce.
                      DesignCase{model::ExperimentId::c258, model::Variant::as_intended, true,
                                 false, true, false, true, false}),
    [](const ::testing::TestParamInfo<DesignCase>& info) {
      std::string name = std::string(model::experiment_name(info.param.experiment)) + "_" +
                         std::string(model::variant_name(info.param.variant)) +
                         (info.param.optimized_as_run ? "_optimized_as_run" : "");
      std::replace(name.begin(), name.end(), '-', '_');
      return name;
    });

// Sample events per step under each policy (C256, constant source, 30 steps).
std::vector<model::StepCounters> run_with_policy(const ScratchDir& scratch,
                                                 model::SamplingPolicy policy) {
  model::RunConfig config = quick_config(scratch.path(), 30);
  config.overheads.sampling = policy;
  config.conditions = {0};
  StepLog log;
  model::run_experiment(config, {&log, nullptr, {}});
  return log.condition(0);
}

TEST(SamplingPolicies, CountSampleEventsAsSpecified) {
  using Kind = model::SamplingPolicy::Kind;
  ScratchDir scratch;
  const auto per_step = run_with_policy(scratch, {Kind::per_step, 1});
  for (const auto& s : per_step)
    EXPECT_EQ(s.metric_samples, 1u);

  const auto every = run_with_policy(scratch, {Kind::every_k, 7});
  for (std::size_t t = 0; t < every.size(); ++t)
    EXPECT_EQ(every[t].metric_samples, t % 7 == 0 ? 1u : 0u) << "step " << t;

  // The optimized script as run: one extra shared sample per step for spawns, while every
  // evolve (and the root's creation) still samples.
  const auto shared = run_with_policy(scratch, {Kind::spawn_shared, 1});
  const auto per_call = run_with_policy(scratch, {Kind::per_call, 1});
  for (std::size_t t = 0; t < shared.size(); ++t) {
    EXPECT_EQ(shared[t].metric_samples, 1u + shared[t].evolve_calls + (t == 0 ? 1u : 0u));
    EXPECT_EQ(per_call[t].metric_samples,
              per_call[t].evolve_calls + per_call[t].spawns + (t == 0 ? 1u : 0u));
  }
}

}  // namespace
}  // namespace nrmlab
