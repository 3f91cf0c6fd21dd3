// Engine benchmarks (issue: "Speed"): the whole C256 with the clean preset, persistence
// off and a synthetic source, at the original sizes and at max agents 1,000; and the
// steady-state cost of one pooling step, reported as steps/s and ns per resonance pair; and
// the fold of that step's resonant pairs into groups on its own.
#include <cstdint>
#include <filesystem>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>

#include "model/cluster_fold.hpp"
#include "model/experiment_runner.hpp"
#include "model/pair_scores.hpp"
#include "model/sampler.hpp"
#include "model/simulation.hpp"
#include "model/snapshot.hpp"
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

// The pooling condition (ON-OFF) at a full population, after 50 steps of warm-up.
struct WarmPooling {
  explicit WarmPooling(std::int64_t max_agents)
      : params(with_max_agents(max_agents)),
        source({1, 25.0, 40.0, 50.0, 10.0}),
        sampler(source, {model::SamplingPolicy::Kind::per_step, 1}, std::chrono::milliseconds(0),
                nullptr, nullptr),
        simulation(params, pooling(), started(sampler), nullptr) {
    for (int warmup = 0; warmup < 50; ++warmup)
      simulation.step();
  }
  static model::ModelParams with_max_agents(std::int64_t max_agents) {
    model::ModelParams p;
    p.max_agents = max_agents;
    return p;
  }
  static model::Sampler& started(model::Sampler& sampler) {
    sampler.begin_condition(1);
    return sampler;
  }
  static model::MechanismSet pooling() {
    model::MechanismSet mechanisms;
    mechanisms.energy_pooling = true;
    return mechanisms;
  }
  model::ModelParams params;
  model::SyntheticSource source;
  model::Sampler sampler;
  model::Simulation simulation;
};

// One pooling step: the pair checks, the fold, the table append and (mostly
// short-circuited) pooling.
void BM_PoolingStep(benchmark::State& state) {
  WarmPooling warm(state.range(0));
  std::uint64_t pairs = 0;
  for (auto _ : state)
    pairs += warm.simulation.step().resonance_pairs;
  state.counters["steps/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["time/pair"] = benchmark::Counter(
      static_cast<double>(pairs), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["pattern_count"] = static_cast<double>(warm.simulation.pattern_count());
}
BENCHMARK(BM_PoolingStep)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);
// Scaling: 10,000 agents are 5 x 10^7 pair checks a step.
BENCHMARK(BM_PoolingStep)->Arg(10000)->Unit(benchmark::kMillisecond)->Iterations(3);

// The resonant pairs of a warmed pooling population, in the order cluster detection meets
// them (row by row), scored once outside the timing.
std::vector<std::pair<std::uint32_t, std::uint32_t>> resonant_pairs(WarmPooling& warm) {
  const nlohmann::json state = warm.simulation.save();
  const nlohmann::json& phase = state.at("agents").at("phase");
  std::vector<model::PhaseState> phases;
  for (const std::uint32_t serial : state.at("list").get<std::vector<std::uint32_t>>()) {
    const nlohmann::json& bits = phase.at(serial);
    phases.push_back({model::double_from_bits(bits[0]), model::double_from_bits(bits[1]),
                      model::double_from_bits(bits[2]), model::double_from_bits(bits[3])});
  }
  model::PairScores scores;
  scores.load(phases);
  std::vector<std::pair<std::uint32_t, std::uint32_t>> pairs;
  for (std::size_t i = 0; i + 1 < phases.size(); ++i) {
    scores.score_row(i);
    for (std::size_t j = i + 1; j < phases.size(); ++j)
      if (scores.similarity(j) >= warm.params.resonance_threshold)
        pairs.emplace_back(static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(j));
  }
  return pairs;
}

// The fold alone: one step's resonant pairs folded into groups. time/pair is per pair
// checked (N(N-1)/2), comparable with BM_PairCheck; time/resonant per pair folded.
void BM_ClusterFold(benchmark::State& state) {
  WarmPooling warm(state.range(0));
  const auto pairs = resonant_pairs(warm);
  const std::size_t n = warm.simulation.population();
  model::ClusterFold fold;
  for (auto _ : state) {
    fold.reset(n);
    for (const auto& [i, j] : pairs)
      fold.fold(i, j);
    benchmark::DoNotOptimize(fold.groups().size());
  }
  const auto iterations = static_cast<double>(state.iterations());
  state.counters["time/pair"] =
      benchmark::Counter(static_cast<double>(n * (n - 1) / 2) * iterations,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["time/resonant"] =
      benchmark::Counter(static_cast<double>(pairs.size()) * iterations,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["resonant_share"] =
      static_cast<double>(pairs.size()) / static_cast<double>(n * (n - 1) / 2);
}
BENCHMARK(BM_ClusterFold)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ClusterFold)->Arg(10000)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
}  // namespace nrmlab

BENCHMARK_MAIN();
