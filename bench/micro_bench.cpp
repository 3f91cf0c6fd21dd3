// Micro benchmarks of the pieces issue 8 names: the resonance pair check, pooling over the
// cluster table, evolve, a telemetry batch write, and Spearman, OLS and HAC on 10^6 points.
// Together with engine_bench (whole C256, one pooling step and the cluster fold alone at
// 100 / 1,000 / 10,000 agents), telemetry_bench (the per-step probe set) and analysis_bench
// (10^6-step analysis).
#include <cmath>
#include <filesystem>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "analysis/stats/correlation.hpp"
#include "analysis/stats/hac.hpp"
#include "analysis/stats/ols.hpp"
#include "bench_phases.hpp"
#include "model/cluster_table.hpp"
#include "model/pair_scores.hpp"
#include "model/sampler.hpp"
#include "model/simulation.hpp"
#include "model/synthetic_source.hpp"
#include "telemetry/telemetry_store.hpp"

namespace nrmlab {
namespace {

// Every pair (i, j > i) of a population scored row by row, as cluster detection does.
void BM_PairCheck(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto phases = bench::random_phases(n);
  model::PairScores scores;
  scores.load(phases);
  double sink = 0.0;
  for (auto _ : state) {
    for (std::size_t i = 0; i + 1 < n; ++i) {
      scores.score_row(i);
      sink += scores.similarity(n - 1);
    }
  }
  benchmark::DoNotOptimize(sink);
  const double pairs = static_cast<double>(n * (n - 1) / 2);
  state.counters["time/pair"] =
      benchmark::Counter(pairs * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_PairCheck)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);

// H1 pooling over an accumulated cluster table of `entries` pairs among 1,000 agents.
void BM_ClusterTablePool(benchmark::State& state) {
  const auto entries = static_cast<std::size_t>(state.range(0));
  constexpr std::uint32_t k_agents = 1000;
  model::ClusterTable table;
  std::mt19937_64 rng(3);
  for (std::size_t e = 0; e < entries; ++e) {
    const auto a = static_cast<std::uint32_t>(rng() % (k_agents - 1));
    const std::uint32_t members[] = {a, a + 1};
    table.append(members);
  }
  std::vector<double> energy(k_agents, 5.0);
  std::vector<std::int32_t> position(k_agents);
  for (std::uint32_t i = 0; i < k_agents; ++i)
    position[i] = static_cast<std::int32_t>(i);
  for (auto _ : state) {
    const auto outcome =
        table.pool([&](std::uint32_t s) -> double& { return energy[s]; }, position, 0.01, 1e9);
    benchmark::DoNotOptimize(outcome.entries_applied);
  }
  state.counters["time/entry"] =
      benchmark::Counter(static_cast<double>(entries) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_ClusterTablePool)->Arg(10'000)->Arg(1'000'000)->Unit(benchmark::kMicrosecond);

// A step of OFF-OFF (no mechanism: evolve, spawn and death only) at a full population,
// with the recursive-evolve defect off: the cost of one evolve call.
void BM_EvolveStep(benchmark::State& state) {
  model::ModelParams params;
  params.max_agents = state.range(0);
  params.recursive_evolve = false;
  params.max_depth = 64;
  model::SyntheticSource source({1, 25.0, 40.0, 50.0, 10.0});
  model::Sampler sampler(source, {model::SamplingPolicy::Kind::per_step, 1},
                         std::chrono::milliseconds(0), nullptr, nullptr);
  sampler.begin_condition(0);
  model::Simulation simulation(params, model::MechanismSet{}, sampler, nullptr);
  for (int warmup = 0; warmup < 200; ++warmup)
    simulation.step();
  std::uint64_t calls = 0;
  for (auto _ : state)
    calls += simulation.step().evolve_calls;
  state.counters["agents"] = static_cast<double>(simulation.population());
  state.counters["time/evolve"] = benchmark::Counter(
      static_cast<double>(calls), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_EvolveStep)->Arg(1000)->Unit(benchmark::kMicrosecond);

// One telemetry batch (256 step rows, as the recorder writes by default) into telemetry.db.
void BM_TelemetryBatchWrite(benchmark::State& state) {
  const auto path = std::filesystem::temp_directory_path() / "nrmlab-bench-batch.db";
  std::filesystem::remove(path);
  telemetry::TelemetryStore store(path);
  std::int64_t step = 0;
  for (auto _ : state) {
    telemetry::Batch batch;
    for (int i = 0; i < 256; ++i, ++step) {
      telemetry::StepRow row;
      row.step = step;
      row.t_ns = step * 1000;
      row.wall_ns = 1000;
      row.cpu_ns = 900;
      row.counters.agents_alive = 50;
      batch.steps.push_back(row);
    }
    store.write(batch);
  }
  state.counters["time/row"] =
      benchmark::Counter(256.0 * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  std::filesystem::remove(path);
}
BENCHMARK(BM_TelemetryBatchWrite)->Unit(benchmark::kMicrosecond);

const std::vector<double>& million(int seed) {
  static std::vector<double> values[2];
  auto& v = values[seed];
  if (v.empty()) {
    std::mt19937_64 rng(static_cast<std::uint64_t>(seed) + 11);
    std::normal_distribution<double> noise(0.0, 1.0);
    for (int i = 0; i < 1'000'000; ++i)
      v.push_back(seed == 0 ? static_cast<double>(i) : 0.001 * i + noise(rng));
  }
  return v;
}

void BM_Spearman1e6(benchmark::State& state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(analysis::stats::spearman(million(0), million(1)).r);
}
BENCHMARK(BM_Spearman1e6)->Unit(benchmark::kMillisecond);

void BM_Ols1e6(benchmark::State& state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(analysis::stats::linear_fit(million(0), million(1)).r_squared);
}
BENCHMARK(BM_Ols1e6)->Unit(benchmark::kMillisecond);

void BM_Hac1e6(benchmark::State& state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(analysis::stats::hac_trend(million(0), million(1)).slope);
}
BENCHMARK(BM_Hac1e6)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace nrmlab
