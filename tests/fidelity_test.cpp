// Two details that decide whether nrmlab reproduces the original scripts bit for bit: the
// order of step 0's samples under the optimized script as run (the root's before the step's
// shared one), and how the original's sum() adds floats (Python 3.12+ compensates).
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "model/cluster_table.hpp"
#include "model/experiment_runner.hpp"
#include "model/metric_trace.hpp"
#include "test_support.hpp"
#include "util/compensated_sum.hpp"

namespace nrmlab {
namespace {

using testing::ScratchDir;

template <typename Sum>
double sum_of(const std::vector<double>& values) {
  Sum sum;
  for (const double x : values)
    sum.add(x);
  return sum.value();
}

double compensated(const std::vector<double>& values) {
  return sum_of<CompensatedSum>(values);
}
double plain(const std::vector<double>& values) {
  return sum_of<PlainSum>(values);
}

// The values are what Python 3.12+'s sum() returns for these lists, and the plain fold what
// Python 3.11's did.
TEST(CompensatedSum, RecoversWhatAPlainFoldLoses) {
  // 1e16 + 1 rounds to 1e16 (ties to even); the compensation keeps the 1.
  EXPECT_EQ(compensated({1e16, 1.0, -1e16}), 1.0);
  EXPECT_EQ(plain({1e16, 1.0, -1e16}), 0.0);
  // The same with the sign reversed: the result is negative.
  EXPECT_EQ(compensated({-1e16, -1.0, 1e16}), -1.0);
  EXPECT_EQ(plain({-1e16, -1.0, 1e16}), 0.0);
}

TEST(CompensatedSum, SumsOfTenthsComeOutAsWritten) {
  EXPECT_EQ(compensated(std::vector<double>(10, 0.1)), 1.0);
  EXPECT_EQ(plain(std::vector<double>(10, 0.1)), 0.9999999999999999);
  EXPECT_EQ(compensated({0.1, 0.2, 0.3}), 0.6);
  EXPECT_EQ(plain({0.1, 0.2, 0.3}), 0.6000000000000001);
  // Exact sums are left alone.
  EXPECT_EQ(compensated({130.0, 65.5, 4.25}), 199.75);
  EXPECT_EQ(compensated({}), 0.0);
}

TEST(CompensatedSum, AddsTheCompensationOnlyWhenItIsNonZeroAndFinite) {
  // sum([-0.0], -0.0) is -0.0: adding a zero compensation would give +0.0.
  CompensatedSum negative_zero(-0.0);
  negative_zero.add(-0.0);
  EXPECT_EQ(negative_zero.value(), 0.0);
  EXPECT_TRUE(std::signbit(negative_zero.value()));
  // The default start is Python's integer 0: 0 + -0.0 is +0.0.
  EXPECT_FALSE(std::signbit(compensated({-0.0})));
  // After an overflow the compensation is -inf (then NaN); the sum stays +inf, not NaN.
  EXPECT_EQ(compensated({1e308, 1e308}), INFINITY);
  EXPECT_EQ(compensated({1e308, 1e308, -1e308}), INFINITY);
  EXPECT_EQ(compensated({INFINITY, 1.0}), INFINITY);
}

TEST(ClusterTable, CompensatedPoolingSumsTheMembersAsPython312Does) {
  // Energies 2^53, 1, 1, 2: a plain fold loses both 1s (2^53 + 1 ties to 2^53) and sums
  // 2^53 + 2; the compensated sum is exact, 2^53 + 4. With share 0.25 over 4 members every
  // step below is exact: share = 0.25 * sum / 4 = 2^49 + 0.25 (plain: 2^49 + 0.125).
  model::ClusterTable table;
  const std::vector<std::uint32_t> members = {0, 1, 2, 3};
  table.append(members);
  const std::vector<std::int32_t> position = {0, 1, 2, 3};
  const double big = 9007199254740992.0;  // 2^53
  const double cap = 1e300;
  std::vector<double> energy = {big, 1.0, 1.0, 2.0};
  table.pool<CompensatedSum>([&](std::uint32_t s) -> double& { return energy[s]; }, position, 0.25,
                             cap);
  EXPECT_EQ(energy[1], 562949953421312.0 + 1.25);  // 2^49 + 1 + 0.25
  EXPECT_EQ(energy[3], 562949953421312.0 + 2.25);

  std::vector<double> plain_energy = {big, 1.0, 1.0, 2.0};
  table.pool([&](std::uint32_t s) -> double& { return plain_energy[s]; }, position, 0.25, cap);
  EXPECT_EQ(plain_energy[1], 562949953421312.0 + 1.125);
  EXPECT_EQ(plain_energy[3], 562949953421312.0 + 2.125);
}

// A small C256 run whose pooling acts on every step: with the default cap every energy
// soon sits at 200 and pooling is skipped (min(cap + share, cap) = cap), so the cap is put
// out of reach.
model::ExperimentResult pooled_run(const std::filesystem::path& dir, model::FloatSum mode) {
  model::RunConfig config = testing::quick_config(dir, 30);
  config.params.max_agents = 24;
  config.params.energy_cap = 1e300;
  config.params.float_sum = mode;
  config.conditions = {1, 3};  // the pooling conditions
  config.source = model::parse_source_spec("synthetic:5:cpu=80,memory=80,jitter=10",
                                           model::ReplayGranularity::step, config.seed);
  return model::run_experiment(config);
}

TEST(FloatSum, CompensatedPoolingChangesTheStateBitsButNotTheCounts) {
  ScratchDir scratch;
  const auto plain_run = pooled_run(scratch / "plain", model::FloatSum::plain);
  const auto compensated_run = pooled_run(scratch / "compensated", model::FloatSum::compensated);
  ASSERT_EQ(plain_run.conditions.size(), 2u);
  for (std::size_t c = 0; c < plain_run.conditions.size(); ++c) {
    const auto& a = plain_run.conditions[c];
    const auto& b = compensated_run.conditions[c];
    EXPECT_EQ(a.population_history, b.population_history) << a.name;
    EXPECT_EQ(a.pattern_count_history, b.pattern_count_history) << a.name;
    EXPECT_EQ(a.totals.spawns, b.totals.spawns) << a.name;
    EXPECT_EQ(a.totals.deaths, b.totals.deaths) << a.name;
    EXPECT_NE(a.state_digest, b.state_digest) << a.name << ": pooling must have summed inexactly";
  }
}

TEST(FloatSum, IsPlainByDefaultAndRecordedInTheConfiguration) {
  const model::RunConfig config;
  EXPECT_EQ(config.params.float_sum, model::FloatSum::plain);
  EXPECT_EQ(model::to_json(config)["model"]["float_sum"], "plain");
  EXPECT_EQ(model::parse_float_sum("compensated"), model::FloatSum::compensated);
  EXPECT_EQ(model::parse_float_sum("kahan"), std::nullopt);
}

// Step 0 under the optimized script as run, in the original's call order: the root's
// sample, then the step's shared sample (used by spawns only), then one per evolve call.
// C256 OFF-OFF with 4 agents at most: step 0 evolves 1 agent and spawns 1; step 1 evolves 3
// (the root recurses into its child) and spawns 2; step 2 evolves 8 and spawns none.
constexpr std::int64_t k_order_steps = 3;
const std::vector<std::int64_t> k_evolves = {1, 3, 8};
const std::vector<std::int64_t> k_spawns = {1, 2, 0};

// Every sample distinct, so that a sample consumed in the wrong place shows in the state.
model::MetricSample distinct_sample(int serial) {
  model::MetricSample s;
  s.timestamp = 1000.0 + serial;
  s.cpu_percent = 5.0 + 1.25 * serial;
  s.memory_percent = 40.0 - 0.5 * serial;
  s.disk_percent = 30.0 + 0.75 * serial;
  return s;
}

struct StepSamples {
  model::MetricSample root;                              // step 0 only
  std::vector<model::MetricSample> shared;               // per step
  std::vector<std::vector<model::MetricSample>> evolve;  // per step, per evolve call
};

StepSamples make_samples() {
  StepSamples samples;
  int serial = 0;
  samples.root = distinct_sample(serial++);
  for (std::int64_t t = 0; t < k_order_steps; ++t) {
    samples.shared.push_back(distinct_sample(serial++));
    auto& evolves = samples.evolve.emplace_back();
    for (std::int64_t k = 0; k < k_evolves[static_cast<std::size_t>(t)]; ++k)
      evolves.push_back(distinct_sample(serial++));
  }
  return samples;
}

void write_trace(const std::filesystem::path& path,
                 const std::vector<std::vector<model::MetricSample>>& per_step) {
  model::TraceWriter trace(path, k_order_steps);
  for (std::size_t t = 0; t < per_step.size(); ++t)
    for (std::size_t call = 0; call < per_step[t].size(); ++call)
      trace.write({0, static_cast<std::int64_t>(t), static_cast<std::int64_t>(call)},
                  per_step[t][call]);
  trace.flush();
}

// The original optimized script's order; `shared_first` gives step 0's first two the other
// way round (nrmlab's order before it followed the original).
std::vector<std::vector<model::MetricSample>> optimized_order(const StepSamples& s,
                                                              bool shared_first = false) {
  std::vector<std::vector<model::MetricSample>> steps;
  for (std::int64_t t = 0; t < k_order_steps; ++t) {
    auto& calls = steps.emplace_back();
    const auto index = static_cast<std::size_t>(t);
    if (t == 0 && !shared_first) calls.push_back(s.root);
    calls.push_back(s.shared[index]);
    if (t == 0 && shared_first) calls.push_back(s.root);
    calls.insert(calls.end(), s.evolve[index].begin(), s.evolve[index].end());
  }
  return steps;
}

// The same samples where a per-call run consumes them: root, evolves, then one per spawn
// (each spawn of step t gets step t's shared sample, as the optimized script's spawns did).
std::vector<std::vector<model::MetricSample>> per_call_order(const StepSamples& s) {
  std::vector<std::vector<model::MetricSample>> steps;
  for (std::int64_t t = 0; t < k_order_steps; ++t) {
    auto& calls = steps.emplace_back();
    const auto index = static_cast<std::size_t>(t);
    if (t == 0) calls.push_back(s.root);
    calls.insert(calls.end(), s.evolve[index].begin(), s.evolve[index].end());
    calls.insert(calls.end(), static_cast<std::size_t>(k_spawns[index]), s.shared[index]);
  }
  return steps;
}

model::ConditionResult replay_by_call(const std::filesystem::path& dir,
                                      const std::filesystem::path& trace, model::Preset preset) {
  model::RunConfig config = testing::quick_config(dir, k_order_steps);
  config.apply_preset(preset);
  config.overheads.window_ms = 0;
  config.overheads.persistence = model::Persistence::off;
  config.params.max_agents = 4;
  config.conditions = {0};
  config.source =
      model::parse_source_spec("replay:" + trace.string(), model::ReplayGranularity::call, 0);
  return model::run_experiment(config).conditions.at(0);
}

TEST(OptimizedAsRun, StepZeroTakesTheRootsSampleBeforeTheSharedOneAsTheOriginalDid) {
  ScratchDir scratch;
  const StepSamples samples = make_samples();
  write_trace(scratch / "original.trace", optimized_order(samples));
  write_trace(scratch / "positional.trace", per_call_order(samples));

  // Call-order replay consumes every recorded sample of every step (it fails on a missing
  // one); the reference is a per-call run fed the same samples where it asks for them.
  const auto replayed = replay_by_call(scratch / "replayed", scratch / "original.trace",
                                       model::Preset::optimized_as_run);
  const auto reference =
      replay_by_call(scratch / "reference", scratch / "positional.trace", model::Preset::as_run);
  EXPECT_EQ(replayed.population_history, (std::vector<std::int64_t>{2, 4, 4}));
  EXPECT_EQ(replayed.population_history, reference.population_history);
  EXPECT_EQ(replayed.totals.evolve_calls, 1u + 3u + 8u);
  // The root's, one shared per step, one per evolve call.
  EXPECT_EQ(replayed.totals.metric_samples, 1u + 3u + (1u + 3u + 8u));
  EXPECT_EQ(replayed.state_digest, reference.state_digest);

  // The control: the two first samples swapped (the order nrmlab used to take them in) give
  // the root and the first child other inputs, hence another state.
  write_trace(scratch / "swapped.trace", optimized_order(samples, true));
  const auto swapped = replay_by_call(scratch / "swapped", scratch / "swapped.trace",
                                      model::Preset::optimized_as_run);
  EXPECT_NE(swapped.state_digest, reference.state_digest);
}

}  // namespace
}  // namespace nrmlab
