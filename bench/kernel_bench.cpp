// The pair kernels against the machine's own limits (issue 21): the throughput of a double
// multiply and a double divide on this CPU at every vector width, the two row kernels
// (exact scores; division-free decisions) per pair in every variant, and the engine with
// each: whole C256 at 1,000 agents and a pooling step at 10,000, on one thread and on every
// usable core. Run with --benchmark_enable_random_interleaving (bench/run.sh does) so the
// variants alternate within one run and a competing load hits them alike; compare medians.
#include <immintrin.h>

#include <cstdint>
#include <filesystem>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench_phases.hpp"
#include "model/experiment_runner.hpp"
#include "model/pair_scores.hpp"
#include "model/sampler.hpp"
#include "model/simulation.hpp"
#include "model/synthetic_source.hpp"
#include "util/thread_pool.hpp"

namespace nrmlab {
namespace {

// Eight independent chains per lane keep the multiplier or divider busy (latency hidden);
// the chains are never reassociated (no -ffast-math), so every operation happens.
constexpr int k_chains = 8;
constexpr int k_rounds = 4096;

template <class Vec>
[[gnu::always_inline]] inline void arithmetic_rounds(Vec* chains, const Vec& factor, bool divide) {
  for (int round = 0; round < k_rounds; ++round)
    for (int c = 0; c < k_chains; ++c)
      chains[c] = divide ? chains[c] / factor : chains[c] * factor;
}

// Not vectorized (GCC would pair the chains into SSE2 vectors): the scalar figure.
__attribute__((optimize("no-tree-vectorize"))) void scalar_rounds(double* chains, bool divide) {
  arithmetic_rounds(chains, 1.0000000001, divide);
}
void sse2_rounds(__m128d* chains, bool divide) {
  arithmetic_rounds(chains, _mm_set1_pd(1.0000000001), divide);
}
__attribute__((target("avx2"))) void avx2_rounds(__m256d* chains, bool divide) {
  arithmetic_rounds(chains, _mm256_set1_pd(1.0000000001), divide);
}
__attribute__((target("avx512f"))) void avx512_rounds(__m512d* chains, bool divide) {
  arithmetic_rounds(chains, _mm512_set1_pd(1.0000000001), divide);
}

// time/op: one double multiply (or divide) per lane; args: variant (model::Isa), divide.
void BM_DoubleArithmetic(benchmark::State& state) {
  const auto isa = static_cast<model::Isa>(state.range(0));
  const bool divide = state.range(1) != 0;
  if (!model::isa_supported(isa)) {
    state.SkipWithError("this CPU lacks the instruction set");
    return;
  }
  alignas(64) double lanes[k_chains * 8];
  for (double& lane : lanes)
    lane = 1.0;
  int width = 1;
  for (auto _ : state) {
    switch (isa) {
      case model::Isa::avx512:
        avx512_rounds(reinterpret_cast<__m512d*>(lanes), divide);
        width = 8;
        break;
      case model::Isa::avx2:
        avx2_rounds(reinterpret_cast<__m256d*>(lanes), divide);
        width = 4;
        break;
      case model::Isa::sse2:
        sse2_rounds(reinterpret_cast<__m128d*>(lanes), divide);
        width = 2;
        break;
      default:
        scalar_rounds(lanes, divide);
        break;
    }
    benchmark::DoNotOptimize(lanes);
    benchmark::ClobberMemory();
  }
  state.counters["time/op"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * k_rounds * k_chains * width,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
void arithmetic_args(benchmark::internal::Benchmark* b) {
  for (const model::Isa isa :
       {model::Isa::scalar, model::Isa::sse2, model::Isa::avx2, model::Isa::avx512})
    for (const int divide : {0, 1})
      b->Args({static_cast<int>(isa), divide});
}
BENCHMARK(BM_DoubleArithmetic)->Apply(arithmetic_args)->Unit(benchmark::kMicrosecond);

// Every row of a population of 10,000 (5 x 10^7 pairs); args: variant, decide (1) or score (0).
void BM_PairKernel(benchmark::State& state) {
  const auto isa = static_cast<model::Isa>(state.range(0));
  const bool decide = state.range(1) != 0;
  if (!model::isa_supported(isa)) {
    state.SkipWithError("this CPU lacks the instruction set");
    return;
  }
  constexpr std::size_t k_agents = 10'000;
  const auto phases = bench::random_phases(k_agents);
  model::PairScores scores(isa);
  scores.load(phases);
  model::RowScores row;
  model::RowDecisions decisions;
  std::size_t sink = 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i + 1 < k_agents; ++i) {
      if (decide) {
        sink += scores.decide_row(i, 0.85, decisions);
      } else {
        scores.score_row(i, row);
        sink += row.similarity[k_agents - 1] >= 0.85 ? 1 : 0;
      }
    }
  }
  benchmark::DoNotOptimize(sink);
  state.counters["time/pair"] = benchmark::Counter(
      static_cast<double>(k_agents * (k_agents - 1) / 2) * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
void kernel_args(benchmark::internal::Benchmark* b) {
  for (const model::Isa isa :
       {model::Isa::scalar, model::Isa::sse2, model::Isa::avx2, model::Isa::avx512})
    for (const int decide : {0, 1})
      b->Args({static_cast<int>(isa), decide});
}
BENCHMARK(BM_PairKernel)->Apply(kernel_args)->Unit(benchmark::kMillisecond)->MinTime(0.5);

// How the engine computes, by benchmark argument: 0 = the exact scores on one thread (the
// kernel before issue 21), 1 = the decisions on one thread, 2 = the decisions on every
// usable core. The widest variant this CPU runs in each.
model::ComputeOptions compute_mode(std::int64_t mode) {
  model::ComputeOptions compute;
  compute.exact_decisions = mode == 0;
  compute.threads = mode == 2 ? usable_cores() : 1;
  return compute;
}

class RateCounter final : public model::StepObserver {
 public:
  void on_step(const model::StepRecord& record) override {
    pairs += record.counters.resonance_pairs;
    agent_steps += record.counters.agents_alive;
  }
  std::uint64_t pairs = 0;
  std::uint64_t agent_steps = 0;
};

void rates(benchmark::State& state, const RateCounter& counter) {
  state.counters["pairs/s"] =
      benchmark::Counter(static_cast<double>(counter.pairs), benchmark::Counter::kIsRate);
  state.counters["agent_steps/s"] =
      benchmark::Counter(static_cast<double>(counter.agent_steps), benchmark::Counter::kIsRate);
  state.counters["time/pair"] =
      benchmark::Counter(static_cast<double>(counter.pairs),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// Whole C256 (4 conditions x 3,000 steps), persistence off, max agents 1,000; arg: mode.
void BM_WholeC256Compute(benchmark::State& state) {
  model::RunConfig config;
  config.apply_preset(model::Preset::clean);
  config.overheads.persistence = model::Persistence::off;
  config.params.max_agents = 1000;
  config.source = model::parse_source_spec("synthetic:1", model::ReplayGranularity::step, 1);
  config.out_dir = config.db_dir = std::filesystem::temp_directory_path();
  config.compute = compute_mode(state.range(0));
  RateCounter counter;
  for (auto _ : state) {
    const auto result = model::run_experiment(config, {&counter, nullptr, {}});
    benchmark::DoNotOptimize(result.conditions.size());
  }
  rates(state, counter);
  state.counters["threads"] = static_cast<double>(config.compute.threads);
}
BENCHMARK(BM_WholeC256Compute)
    ->DenseRange(0, 2)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1)
    ->UseRealTime();

// One pooling step (ON-OFF) at 10,000 agents after 50 warm-up steps; arg: mode.
void BM_PoolingStepCompute(benchmark::State& state) {
  model::ModelParams params;
  params.max_agents = 10'000;
  model::SyntheticSource source({1, 25.0, 40.0, 50.0, 10.0});
  model::Sampler sampler(source, {model::SamplingPolicy::Kind::per_step, 1},
                         std::chrono::milliseconds(0), nullptr, nullptr);
  sampler.begin_condition(1);
  model::MechanismSet mechanisms;
  mechanisms.energy_pooling = true;
  model::Simulation simulation(params, mechanisms, sampler, nullptr, compute_mode(state.range(0)));
  for (int warmup = 0; warmup < 50; ++warmup)
    simulation.step();
  RateCounter counter;
  for (auto _ : state) {
    const model::StepCounters& counters = simulation.step();
    counter.pairs += counters.resonance_pairs;
    counter.agent_steps += counters.agents_alive;
  }
  rates(state, counter);
}
BENCHMARK(BM_PoolingStepCompute)
    ->DenseRange(0, 2)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(5)
    ->UseRealTime();

}  // namespace
}  // namespace nrmlab
