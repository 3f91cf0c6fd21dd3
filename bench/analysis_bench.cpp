// Analysis speed: a 1,000,000-step telemetry database (four conditions of 250,000 steps,
// with getrusage, memory, side-stream and file rows on the recorder's default cadences),
// analysed in all modes. The target (issue 4) is under 5 s on one core.
#include <filesystem>
#include <random>

#include <benchmark/benchmark.h>

#include "analysis/analyze.hpp"
#include "analysis/telemetry_reader.hpp"
#include "synthetic_telemetry.hpp"

namespace {

namespace fs = std::filesystem;

// Built once per process: writing the database takes longer than analysing it.
const fs::path& million_step_run() {
  static const fs::path dir = [] {
    const fs::path path = fs::temp_directory_path() / "nrmlab-bench-analysis-1e6";
    fs::remove_all(path);
    nrmlab::testing::SyntheticRun run;
    const char* const names[] = {"OFF-OFF", "ON-OFF", "OFF-ON", "ON-ON"};
    for (int i = 0; i < 4; ++i) {
      nrmlab::testing::SyntheticCondition c;
      c.name = names[i];
      c.index = i;
      c.steps = 250'000;
      c.system_every = 250;
      c.step = [](std::int64_t step, nrmlab::telemetry::StepRow& row, std::mt19937_64& rng) {
        const auto agents = static_cast<std::uint64_t>(50 + step / 5000 + rng() % 4);
        row.counters.agents_alive = agents;
        row.counters.evolve_calls = agents;
        row.counters.resonance_pairs = agents * (agents - 1) / 2;
        row.counters.pattern_count = static_cast<std::uint64_t>(step / 100);
        row.cpu_ns = 20'000 + 30 * static_cast<std::int64_t>(row.counters.resonance_pairs) +
                     static_cast<std::int64_t>(rng() % 2000);
        row.wall_ns = row.cpu_ns + static_cast<std::int64_t>(rng() % 500);
        row.recorder_ns = 1500;
      };
      c.switches = [](std::int64_t, std::mt19937_64& rng) {
        return static_cast<std::int64_t>(rng() % 3);
      };
      c.memory = [](std::int64_t step, nrmlab::telemetry::MemoryRow& row) {
        row.rss_bytes = 50'000'000 + step * 10;
        row.allocator.allocated = 40'000'000 + step * 8;
        row.allocator.active = 45'000'000 + step * 9;
      };
      run.conditions.push_back(c);
    }
    nrmlab::testing::write_synthetic_run(path, run);
    return path;
  }();
  return dir;
}

void BM_Analyze1e6Steps(benchmark::State& state) {
  const fs::path& dir = million_step_run();
  nrmlab::analysis::AnalyzeOptions options;
  options.mode = static_cast<nrmlab::analysis::Mode>(state.range(0));
  for (auto _ : state) {
    auto report = nrmlab::analysis::analyze(dir, options);
    benchmark::DoNotOptimize(report);
  }
  state.SetLabel(state.range(0) == 0 ? "sound" : state.range(0) == 1 ? "paper" : "all");
}
BENCHMARK(BM_Analyze1e6Steps)
    ->Arg(static_cast<int>(nrmlab::analysis::Mode::sound))
    ->Arg(static_cast<int>(nrmlab::analysis::Mode::all))
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3)
    ->UseRealTime();

// The reading alone (SQLite to columns), to see the analysis's own share.
void BM_Read1e6Steps(benchmark::State& state) {
  const fs::path& dir = million_step_run();
  for (auto _ : state) {
    auto run = nrmlab::analysis::read_run(dir);
    benchmark::DoNotOptimize(run);
  }
}
BENCHMARK(BM_Read1e6Steps)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

}  // namespace
