// The cost of one /proc sample for `nrmlab watch` (issue 7): the current process alone, and
// the current process with 20 idle children. At 10 Hz a sample must stay far below 1 ms.
// Run-queue delay (issue 17): one reading of the engine thread's schedstat, and the whole
// recorder's cost on 20 µs steps (bare steps against recorded ones, in one run).
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "telemetry/probes.hpp"
#include "telemetry/process_probe.hpp"
#include "telemetry/recorder.hpp"

namespace nrmlab {
namespace {

void BM_ProcessProbeSelf(benchmark::State& state) {
  telemetry::ProcessProbe probe(getpid(), false);
  for (auto _ : state)
    benchmark::DoNotOptimize(probe.sample());
}
BENCHMARK(BM_ProcessProbeSelf);

// Children that wait for the end of a pipe, then exit.
class IdleChildren {
 public:
  explicit IdleChildren(int count) {
    std::array<int, 2> ends{};
    if (pipe(ends.data()) != 0) return;
    for (int i = 0; i < count; ++i) {
      const pid_t pid = fork();
      if (pid == 0) {
        close(ends[1]);
        char byte = 0;
        while (read(ends[0], &byte, 1) != 0) {
        }
        _exit(0);
      }
      if (pid > 0) m_pids.push_back(pid);
    }
    close(ends[0]);
    m_release = ends[1];
  }
  ~IdleChildren() {
    if (m_release >= 0) close(m_release);
    for (const pid_t pid : m_pids)
      waitpid(pid, nullptr, 0);
  }
  IdleChildren(const IdleChildren&) = delete;
  IdleChildren& operator=(const IdleChildren&) = delete;
  std::size_t size() const { return m_pids.size(); }

 private:
  std::vector<pid_t> m_pids;
  int m_release = -1;
};

// The search for new descendants runs only when a pid was allocated since the previous
// sample (and every 20th sample); on a busy machine that is most samples.
void BM_ProcessProbeChildren(benchmark::State& state) {
  const IdleChildren children(static_cast<int>(state.range(0)));
  telemetry::ProcessProbe probe(getpid(), true);
  int processes = 0;
  for (auto _ : state) {
    const auto sample = probe.sample();
    processes = sample ? sample->processes : 0;
    benchmark::DoNotOptimize(processes);
  }
  state.counters["processes"] = processes;
}
BENCHMARK(BM_ProcessProbeChildren)->Arg(20);

// One reading of the run-queue delay as the recorder takes it: a pread of the engine
// thread's /proc/thread-self/schedstat, kept open, and its parse.
void BM_ThreadSchedstatRead(benchmark::State& state) {
  const telemetry::ThreadSchedstat schedstat;
  if (!schedstat.unavailable().empty()) {
    state.SkipWithError(schedstat.unavailable().c_str());
    return;
  }
  for (auto _ : state)
    benchmark::DoNotOptimize(schedstat.read());
}
BENCHMARK(BM_ThreadSchedstatRead);

// A step of `ns` wall time, spent computing.
void spin_for(std::int64_t ns) {
  const std::int64_t until = telemetry::monotonic_ns() + ns;
  while (telemetry::monotonic_ns() < until) {
  }
}

constexpr std::int64_t k_step_ns = 20'000;

// 20 µs steps without telemetry: the baseline of the next benchmark.
void BM_Step20usBare(benchmark::State& state) {
  for (auto _ : state)
    spin_for(k_step_ns);
}
BENCHMARK(BM_Step20usBare);

// The same steps under the recorder at its default cadences (getrusage and run-queue delay
// every 8 steps, memory every 16, ...; side streams off: they run on their own thread). The
// difference of the per-iteration CPU times is the telemetry's cost per step; the counter is
// the recorder's own measure of its share of step wall time. Argument 0: without run-queue
// delay (a /proc whose only entry is self, so schedstat is unavailable and all else equal).
void BM_Step20usRecorded(benchmark::State& state) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("nrmlab-bench-runq-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir / "proc");
  std::error_code ignored;
  std::filesystem::create_directory_symlink("/proc/self", dir / "proc" / "self", ignored);
  double share = 0.0;
  {
    telemetry::RecorderOptions options;
    options.db_path = dir / "telemetry.db";
    options.side_period_ms = 0;
    if (state.range(0) == 0) options.proc_root = dir / "proc";
    telemetry::Recorder recorder(options, {});
    recorder.on_condition_begin(0);
    model::StepRecord record;
    for (auto _ : state) {
      spin_for(k_step_ns);
      recorder.on_step(record);
      ++record.step;
    }
    share = recorder.finish().recorder_share();
  }
  std::filesystem::remove_all(dir);
  state.counters["recorder_share"] = share;
}
BENCHMARK(BM_Step20usRecorded)->Arg(0)->Arg(1);

}  // namespace
}  // namespace nrmlab
