// Telemetry costs (issue 3): the always-on per-step probe set (budget: 1 µs), the
// recorder's whole per-step path at default cadences, and its parts.
#include <unistd.h>

#include <filesystem>

#include <benchmark/benchmark.h>

#include "telemetry/allocator.hpp"
#include "telemetry/probes.hpp"
#include "telemetry/recorder.hpp"

namespace nrmlab {
namespace {

// The always-on per-step probe set: the clock and the engine thread's exact CPU time.
void BM_ProbeSet(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(telemetry::monotonic_ns());
    benchmark::DoNotOptimize(telemetry::thread_cpu_ns());
  }
}
BENCHMARK(BM_ProbeSet);

void BM_ThreadUsage(benchmark::State& state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(telemetry::read_thread_usage());
}
BENCHMARK(BM_ThreadUsage);

void BM_RssRead(benchmark::State& state) {
  telemetry::ProcessMemory memory;
  for (auto _ : state)
    benchmark::DoNotOptimize(memory.rss_bytes());
}
BENCHMARK(BM_RssRead);

void BM_AllocatorStats(benchmark::State& state) {
  const auto probe = telemetry::detect_allocator();
  for (auto _ : state)
    benchmark::DoNotOptimize(probe->read());
  state.SetLabel(probe->name());
}
BENCHMARK(BM_AllocatorStats);

void BM_AllocationProbe(benchmark::State& state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(telemetry::time_allocation_probe());
}
BENCHMARK(BM_AllocationProbe);

// The recorder's per-step path with the default cadences (side streams off: they run on
// their own thread), writing into a real telemetry.db in the temp directory.
void BM_RecorderStep(benchmark::State& state) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("nrmlab-bench-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  {
    telemetry::RecorderOptions options;
    options.db_path = dir / "telemetry.db";
    options.side_period_ms = 0;
    telemetry::Recorder recorder(options, {});
    recorder.on_condition_begin(0);
    model::StepRecord record;
    model::MetricSample sample;
    for (auto _ : state) {
      recorder.on_sample({0, record.step, 0}, sample);  // one sample event per step
      recorder.on_step(record);
      ++record.step;
    }
    recorder.finish();
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_RecorderStep);

}  // namespace
}  // namespace nrmlab
