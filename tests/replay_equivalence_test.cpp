// study.md 4.6 and model.md section 1: overhead knobs change cost, never results, when a
// step-granularity trace fixes the inputs; call granularity reproduces a recorded run.
#include <gtest/gtest.h>

#include "model/experiment_runner.hpp"
#include "test_support.hpp"
#include "util/error.hpp"

namespace nrmlab {
namespace {

using testing::ScratchDir;

// Scarce, noisy availability (avail = 24 +- 24): newborns die or cannot spawn depending on
// the sample they get, so any change of inputs shows in the population.
constexpr const char* k_scarce = "synthetic:11:cpu=88,memory=88,jitter=12";

model::RunConfig scarce_config(
    const std::filesystem::path& dir, const std::string& source,
    model::ReplayGranularity granularity = model::ReplayGranularity::step) {
  model::RunConfig config = testing::quick_config(dir, 50);
  config.params.max_agents = 10;
  config.source = model::parse_source_spec(source, granularity, 0);
  return config;
}

struct Outcome {
  std::vector<std::vector<std::int64_t>> populations, patterns;
  std::vector<std::string> digests;
  std::string classification;
  double synergy = 0.0;
  std::uint64_t deaths = 0, spawns = 0;
};

Outcome outcome_of(const model::ExperimentResult& result) {
  Outcome o;
  for (const auto& c : result.conditions) {
    o.populations.push_back(c.population_history);
    o.patterns.push_back(c.pattern_count_history);
    o.digests.push_back(c.state_digest);
    o.deaths += c.totals.deaths;
    o.spawns += c.totals.spawns;
  }
  if (result.synergy) {
    o.classification = result.synergy->classification;
    o.synergy = result.synergy->synergy;
  }
  return o;
}

void expect_same(const Outcome& a, const Outcome& b, const std::string& label) {
  EXPECT_EQ(a.populations, b.populations) << label;
  EXPECT_EQ(a.patterns, b.patterns) << label;
  EXPECT_EQ(a.digests, b.digests) << label;  // bit-identical energies and phases
  EXPECT_EQ(a.classification, b.classification) << label;
  EXPECT_EQ(a.synergy, b.synergy) << label;
}

TEST(ReplayEquivalence, OverheadKnobsNeverChangeResultsUnderAStepTrace) {
  ScratchDir scratch;
  const auto trace = scratch / "scarce.trace";
  model::RunConfig recording = scarce_config(scratch / "recorded", k_scarce);
  recording.record_trace = trace;
  const Outcome recorded = outcome_of(model::run_experiment(recording));
  ASSERT_GT(recorded.deaths, 0u) << "the scenario must exercise deaths";

  const std::string replay = "replay:" + trace.string();
  const Outcome reference =
      outcome_of(model::run_experiment(scarce_config(scratch / "ref", replay)));
  expect_same(recorded, reference, "replay reproduces the recorded run");

  // Each knob is varied on its own against the reference (the cross product would only
  // multiply the cost of the faithful connection-per-row writes).
  using Kind = model::SamplingPolicy::Kind;
  int variant = 0;
  auto next_dir = [&] { return scratch / ("variant" + std::to_string(variant++)); };
  for (const model::Preset preset : {model::Preset::as_run, model::Preset::optimized_as_run,
                                     model::Preset::optimized_as_intended, model::Preset::clean}) {
    model::RunConfig config = scarce_config(next_dir(), replay);
    config.apply_preset(preset);
    config.overheads.runs_as_c256 = false;  // same experiment design throughout
    config.overheads.window_ms = 0;         // the window costs time, not results
    expect_same(reference, outcome_of(model::run_experiment(config)),
                std::string("preset ") + std::string(model::preset_name(preset)));
  }
  for (const model::SamplingPolicy policy :
       {model::SamplingPolicy{Kind::per_call, 1}, model::SamplingPolicy{Kind::spawn_shared, 1},
        model::SamplingPolicy{Kind::per_step, 1}, model::SamplingPolicy{Kind::every_k, 3}}) {
    model::RunConfig config = scarce_config(next_dir(), replay);
    config.overheads.sampling = policy;
    expect_same(reference, outcome_of(model::run_experiment(config)),
                "clean with sampling " + model::sampling_policy_name(policy));
  }
  for (const model::Persistence persistence :
       {model::Persistence::connection_per_write, model::Persistence::commit_per_write,
        model::Persistence::transaction_per_step}) {
    model::RunConfig config = scarce_config(next_dir(), replay);
    config.overheads.sampling = {Kind::per_call, 1};
    config.overheads.persistence = persistence;
    expect_same(
        reference, outcome_of(model::run_experiment(config)),
        "per-call sampling with persistence " + std::string(model::persistence_name(persistence)));
  }
}

TEST(ReplayEquivalence, ADifferentTraceGivesDifferentResults) {
  // The control for the test above: the scenario is sensitive to its inputs.
  ScratchDir scratch;
  const Outcome a = outcome_of(model::run_experiment(scarce_config(scratch / "a", k_scarce)));
  const Outcome b = outcome_of(model::run_experiment(
      scarce_config(scratch / "b", "synthetic:12:cpu=88,memory=88,jitter=12")));
  EXPECT_NE(a.populations, b.populations);
  EXPECT_NE(a.digests, b.digests);
}

TEST(ReplayEquivalence, CallGranularityReproducesARecordedAsRunRunExactly) {
  ScratchDir scratch;
  const auto trace = scratch / "as-run.trace";
  auto as_run = [&](const std::filesystem::path& dir, const std::string& source,
                    model::ReplayGranularity granularity) {
    model::RunConfig config = scarce_config(dir, source, granularity);
    config.apply_preset(model::Preset::as_run);
    config.overheads.window_ms = 0;
    // Persistence never changes results (see the test above); skipping it keeps this fast.
    config.overheads.persistence = model::Persistence::off;
    return config;
  };
  model::RunConfig recording =
      as_run(scratch / "recorded", k_scarce, model::ReplayGranularity::step);
  recording.record_trace = trace;
  const Outcome recorded = outcome_of(model::run_experiment(recording));

  const std::string replay = "replay:" + trace.string();
  const Outcome by_call = outcome_of(
      model::run_experiment(as_run(scratch / "call", replay, model::ReplayGranularity::call)));
  expect_same(recorded, by_call, "call-granularity replay");

  // Every call saw its own value: collapsing them per step changes the run, which is what
  // makes the equality above meaningful.
  const Outcome by_step = outcome_of(
      model::run_experiment(as_run(scratch / "step", replay, model::ReplayGranularity::step)));
  EXPECT_NE(recorded.digests, by_step.digests);
}

}  // namespace
}  // namespace nrmlab

namespace nrmlab {
namespace {

TEST(ReplayEquivalence, CallGranularityReproducesAnEveryKRecordingWithItsHolds) {
  // Call granularity replays the recording's own sampling pattern: with every:K the held
  // samples are part of it, and no step without a recorded sample is asked for.
  ScratchDir scratch;
  const auto trace = scratch / "every.trace";
  model::RunConfig recording = scarce_config(scratch / "recorded", k_scarce);
  recording.overheads.sampling = {model::SamplingPolicy::Kind::every_k, 4};
  recording.record_trace = trace;
  const Outcome recorded = outcome_of(model::run_experiment(recording));
  model::RunConfig replay = scarce_config(scratch / "replayed", "replay:" + trace.string(),
                                          model::ReplayGranularity::call);
  replay.overheads.sampling = {model::SamplingPolicy::Kind::every_k, 4};
  expect_same(recorded, outcome_of(model::run_experiment(replay)), "every:4 by call");
}

TEST(RunExperiment, RejectsAConditionListedTwice) {
  ScratchDir scratch;
  model::RunConfig config = testing::quick_config(scratch.path(), 5);
  config.conditions = {0, 0, 1, 2};
  EXPECT_THROW(model::run_experiment(config), Error);
}

}  // namespace
}  // namespace nrmlab
