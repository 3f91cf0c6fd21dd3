// Process recycling inside a condition, in one process: a condition run as a chain of
// segments, each resumed from the previous one's snapshot (sent through CBOR, as between
// processes), must be bit-identical to the same condition run straight through -- state,
// histories, totals and every step's counters -- under every sampling policy.
#include <string>
#include <tuple>

#include <gtest/gtest.h>

#include "model/experiment_runner.hpp"
#include "test_support.hpp"
#include "util/error.hpp"

namespace nrmlab {
namespace {

using testing::quick_config;
using testing::ScratchDir;
using testing::StepLog;

struct Outcome {
  model::ConditionResult condition;
  std::vector<model::StepRecord> steps;
};

model::RunConfig segment_config(const std::filesystem::path& dir, const std::string& sampling,
                                std::int64_t steps) {
  model::RunConfig config = quick_config(dir, steps);
  config.source = model::parse_source_spec("synthetic", model::ReplayGranularity::step, 11);
  config.overheads.sampling = *model::parse_sampling_policy(sampling);
  config.overheads.persistence = model::Persistence::transaction_per_step;
  config.params.max_agents = 12;
  config.conditions = {3};  // ON-ON: every mechanism, so every piece of state matters
  return config;
}

Outcome run_straight(const model::RunConfig& config) {
  StepLog log;
  model::RunHooks hooks;
  hooks.observer = &log;
  const model::ExperimentResult result = model::run_experiment(config, hooks);
  return {result.conditions.at(0), log.records};
}

// Runs `config` as segments of `length` steps; `snapshots` counts the states carried over.
Outcome run_in_segments(const model::RunConfig& config, std::int64_t length, int& snapshots) {
  Outcome outcome;
  std::optional<model::Snapshot> carried;
  bool first = true;
  snapshots = 0;
  for (;;) {
    StepLog log;
    model::Snapshot suspended;
    model::Segment segment;
    segment.resume = carried ? &*carried : nullptr;
    segment.end_step = (carried ? carried->next_step : 0) + length;
    segment.suspended = &suspended;
    model::RunHooks hooks;
    hooks.observer = &log;
    hooks.segment = &segment;
    const model::ExperimentResult part = model::run_experiment(config, hooks);
    EXPECT_FALSE(part.stopped_because.has_value());
    if (first)
      outcome.condition = part.conditions.at(0);
    else
      model::append_segment(outcome.condition, part.conditions.at(0));
    first = false;
    outcome.steps.insert(outcome.steps.end(), log.records.begin(), log.records.end());
    if (suspended.condition < 0) {
      EXPECT_TRUE(part.complete);
      return outcome;
    }
    EXPECT_FALSE(part.complete) << "a suspended segment is not a complete run";
    EXPECT_TRUE(part.conditions.at(0).state_digest.empty());
    // Across the pipe the snapshot travels as CBOR.
    const auto bytes = nlohmann::json::to_cbor(model::to_json(suspended));
    carried = model::snapshot_from_json(nlohmann::json::from_cbor(bytes));
    ++snapshots;
  }
}

class Segments : public ::testing::TestWithParam<std::tuple<std::string, std::int64_t>> {};

TEST_P(Segments, ResumeBitIdentically) {
  const auto& [sampling, length] = GetParam();
  ScratchDir scratch;
  const std::int64_t steps = 45;
  const Outcome straight = run_straight(segment_config(scratch / "straight", sampling, steps));
  int snapshots = 0;
  const Outcome segmented =
      run_in_segments(segment_config(scratch / "segmented", sampling, steps), length, snapshots);
  EXPECT_EQ(snapshots, (steps - 1) / length);

  const model::ConditionResult& a = straight.condition;
  const model::ConditionResult& b = segmented.condition;
  ASSERT_FALSE(a.state_digest.empty());
  EXPECT_EQ(a.state_digest, b.state_digest);
  EXPECT_EQ(a.population_history, b.population_history);
  EXPECT_EQ(a.pattern_count_history, b.pattern_count_history);
  EXPECT_EQ(a.steps_completed, b.steps_completed);
  EXPECT_EQ(a.mean_population, b.mean_population);
  EXPECT_EQ(a.max_population, b.max_population);
  EXPECT_EQ(a.totals.metric_samples, b.totals.metric_samples);
  EXPECT_EQ(a.totals.db_rows, b.totals.db_rows);
  EXPECT_EQ(a.totals.db_transactions, b.totals.db_transactions);
  EXPECT_GT(a.max_population, 3) << "the population must grow for the test to mean anything";
  ASSERT_EQ(straight.steps.size(), segmented.steps.size());
  for (std::size_t t = 0; t < straight.steps.size(); ++t) {
    const model::StepRecord& x = straight.steps[t];
    const model::StepRecord& y = segmented.steps[t];
    EXPECT_EQ(x.step, y.step);
    EXPECT_EQ(x.counters.agents_alive, y.counters.agents_alive) << "step " << t;
    EXPECT_EQ(x.counters.evolve_calls, y.counters.evolve_calls) << "step " << t;
    EXPECT_EQ(x.counters.metric_samples, y.counters.metric_samples) << "step " << t;
    EXPECT_EQ(x.counters.resonant_pairs, y.counters.resonant_pairs) << "step " << t;
    EXPECT_EQ(x.counters.pattern_count, y.counters.pattern_count) << "step " << t;
    EXPECT_EQ(x.counters.db_rows, y.counters.db_rows) << "step " << t;
  }
}

// Every policy; segment lengths that do and do not divide the steps, and that split a
// held every:K sample (7 and 3 are coprime).
INSTANTIATE_TEST_SUITE_P(
    AllPolicies, Segments,
    ::testing::Combine(::testing::Values("per-call", "spawn-shared", "per-step", "every:3"),
                       ::testing::Values(std::int64_t{7}, std::int64_t{1}, std::int64_t{45})),
    [](const auto& info) {
      std::string name =
          std::get<0>(info.param) + "_every_" + std::to_string(std::get<1>(info.param));
      for (char& c : name)
        if (c == '-' || c == ':') c = '_';
      return name;
    });

// Replayed inputs at step granularity: every:K refreshes its held sample from the trace
// each step (not a sample event), which a resumed stretch must do the same way.
TEST(Segments, ResumeBitIdenticallyOnReplayedInputs) {
  ScratchDir scratch;
  model::RunConfig recording = segment_config(scratch / "recorded", "per-step", 30);
  recording.record_trace = scratch / "inputs.trace";
  model::run_experiment(recording);

  model::RunConfig config = segment_config(scratch / "straight", "every:3", 30);
  config.source = model::parse_source_spec("replay:" + (scratch / "inputs.trace").string(),
                                           model::ReplayGranularity::step, 0);
  const Outcome straight = run_straight(config);
  config.out_dir = config.db_dir = scratch / "segmented";
  int snapshots = 0;
  const Outcome segmented = run_in_segments(config, 4, snapshots);
  EXPECT_EQ(snapshots, 7);
  ASSERT_FALSE(straight.condition.state_digest.empty());
  EXPECT_EQ(straight.condition.state_digest, segmented.condition.state_digest);
  EXPECT_EQ(straight.condition.population_history, segmented.condition.population_history);
  EXPECT_EQ(straight.condition.totals.metric_samples, segmented.condition.totals.metric_samples);
}

TEST(Segments, RefuseAStateOfAnotherCondition) {
  ScratchDir scratch;
  model::RunConfig config = segment_config(scratch.path(), "per-step", 20);
  model::Snapshot suspended;
  model::Segment first;
  first.end_step = 5;
  first.suspended = &suspended;
  model::RunHooks hooks;
  hooks.segment = &first;
  model::run_experiment(config, hooks);
  ASSERT_EQ(suspended.condition, 3);
  ASSERT_EQ(suspended.next_step, 5);

  config.conditions = {1};
  model::Segment resume;
  resume.resume = &suspended;
  hooks.segment = &resume;
  EXPECT_THROW(model::run_experiment(config, hooks), Error);
}

}  // namespace
}  // namespace nrmlab
