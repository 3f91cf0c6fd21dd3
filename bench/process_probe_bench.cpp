// The cost of one /proc sample for `nrmlab watch` (issue 7): the current process alone, and
// the current process with 20 idle children. At 10 Hz a sample must stay far below 1 ms.
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <vector>

#include <benchmark/benchmark.h>

#include "telemetry/process_probe.hpp"

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

}  // namespace
}  // namespace nrmlab
