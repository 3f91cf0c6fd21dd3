// Engine benchmarks (issue: "Speed"): the whole C256 with the clean preset, persistence
// off and a synthetic source, at the original sizes and at max agents 1,000; and the
// steady-state cost of one pooling step, reported as steps/s and ns per resonance pair.
#include <filesystem>

#include <benchmark/benchmark.h>

#include "model/experiment_runner.hpp"
#include "model/sampler.hpp"
#include "model/simulation.hpp"
#include "model/synthetic_source.hpp"

namespace nrmlab {
namespace {

model::RunConfig clean_c256(std::int64_t max_agents) {
  model::RunConfig config;
  config.apply_preset(model::Preset::clean);
  config.overheads.persistence = model::Persistence::off;
  config.params.max_agents = max_agents;
  config.source = model::parse_source_spec("synthetic:1", model::ReplayGranularity::step, 1);
  config.out_dir = config.db_dir = std::filesystem::temp_directory_path();
  return config;
}

class PairCounter final : public model::StepObserver {
 public:
  void on_step(const model::StepRecord& record) override {
    pairs += record.counters.resonance_pairs;
    ++steps;
  }
  std::uint64_t pairs = 0;
  std::uint64_t steps = 0;
};

// The whole experiment: 4 conditions x 3000 steps.
void BM_WholeC256(benchmark::State& state) {
  const model::RunConfig config = clean_c256(state.range(0));
  PairCounter counter;
  for (auto _ : state) {
    const auto result = model::run_experiment(config, {&counter, nullptr, {}});
    benchmark::DoNotOptimize(result.conditions.size());
  }
  state.counters["steps/s"] =
      benchmark::Counter(static_cast<double>(counter.steps), benchmark::Counter::kIsRate);
  state.counters["time/pair"] =
      benchmark::Counter(static_cast<double>(counter.pairs),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_WholeC256)->Arg(100)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_WholeC256)->Arg(1000)->Unit(benchmark::kMillisecond)->Iterations(1);

// (time/pair is the whole step's time divided by its pair checks: an upper bound on the
// cost of one check.)

// One step of the pooling condition (ON-OFF) at a full population, after warm-up: the
// pair checks, the fold, the table append and (mostly short-circuited) pooling.
void BM_PoolingStep(benchmark::State& state) {
  model::ModelParams params;
  params.max_agents = state.range(0);
  model::SyntheticSource source({1, 25.0, 40.0, 50.0, 10.0});
  model::Sampler sampler(source, {model::SamplingPolicy::Kind::per_step, 1},
                         std::chrono::milliseconds(0), nullptr, nullptr);
  sampler.begin_condition(1);
  model::MechanismSet mechanisms;
  mechanisms.energy_pooling = true;
  model::Simulation simulation(params, mechanisms, sampler, nullptr);
  for (int warmup = 0; warmup < 50; ++warmup)
    simulation.step();
  std::uint64_t pairs = 0;
  for (auto _ : state)
    pairs += simulation.step().resonance_pairs;
  state.counters["steps/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["time/pair"] = benchmark::Counter(
      static_cast<double>(pairs), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["pattern_count"] = static_cast<double>(simulation.pattern_count());
}
BENCHMARK(BM_PoolingStep)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);
// Scaling: 10,000 agents are 5 x 10^7 pair checks a step.
BENCHMARK(BM_PoolingStep)->Arg(10000)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
}  // namespace nrmlab

BENCHMARK_MAIN();
