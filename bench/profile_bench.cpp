// The cost of the stack sampler (issue 18) at 99 Hz on a CPU-bound child: the target's
// slowdown (the same fixed work run alone and sampled, alternately, CPU time from wait4;
// the median ratio) and the sampler's own CPU time per sample in drain(). The bound
// is 1% of the target's CPU.
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "telemetry/profile/sampler.hpp"

namespace nrmlab {
namespace {

using telemetry::profile::RawSample;
using telemetry::profile::SamplerOptions;
using telemetry::profile::StackSampler;

std::uint64_t profile_bench_ns(clockid_t clock) {
  timespec now{};
  clock_gettime(clock, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000ULL +
         static_cast<std::uint64_t>(now.tv_nsec);
}

// Fixed work (not a fixed time), so sampling's cost shows as more CPU time.
[[gnu::noinline]] std::uint64_t profile_bench_work(std::uint64_t rounds) {
  std::uint64_t x = 88172645463325252ULL;
  for (std::uint64_t i = 0; i < rounds; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  return x;
}

struct ProfiledChild {
  double cpu_ns = 0;   // the child's user + system time (wait4)
  double wall_ns = 0;  // release to reaping, as the parent saw it
  std::size_t samples = 0;
  double drain_cpu_ns = 0;  // this thread's CPU time inside drain()
};

double profile_bench_rusage_ns(const rusage& usage) {
  auto ns = [](const timeval& t) { return 1e9 * static_cast<double>(t.tv_sec) + 1e3 * t.tv_usec; };
  return ns(usage.ru_utime) + ns(usage.ru_stime);
}

// Forks a child that waits for a byte, does `rounds` of work and exits; samples it at
// `hz` (drained every 10 ms) when `sampled`.
ProfiledChild run_profiled_child(std::uint64_t rounds, bool sampled, bool off_cpu, unsigned hz) {
  std::array<int, 2> gate{};
  if (pipe(gate.data()) != 0) return {};
  const pid_t pid = fork();
  if (pid == 0) {
    char byte = 0;
    close(gate[1]);
    if (read(gate[0], &byte, 1) != 1) _exit(2);
    benchmark::DoNotOptimize(profile_bench_work(rounds));
    _exit(0);
  }
  close(gate[0]);
  std::optional<StackSampler> sampler;
  SamplerOptions options;
  options.ring_pages = 256;
  options.off_cpu = off_cpu;
  options.frequency_hz = hz;
  if (sampled) sampler.emplace(pid, options);
  ProfiledChild result;
  std::vector<RawSample> samples;
  const std::uint64_t start = profile_bench_ns(CLOCK_MONOTONIC);
  if (write(gate[1], "g", 1) != 1) return {};
  close(gate[1]);
  rusage usage{};
  int status = 0;
  for (;;) {
    const bool done = wait4(pid, &status, sampled ? WNOHANG : 0, &usage) == pid;
    if (sampler) {
      const std::uint64_t cpu0 = profile_bench_ns(CLOCK_THREAD_CPUTIME_ID);
      result.samples += sampler->drain(samples);
      result.drain_cpu_ns += static_cast<double>(profile_bench_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0);
      samples.clear();  // what the unwinder would take over
    }
    if (done) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  result.wall_ns = static_cast<double>(profile_bench_ns(CLOCK_MONOTONIC) - start);
  result.cpu_ns = profile_bench_rusage_ns(usage);
  return result;
}

double profile_bench_median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0.0 : values[values.size() / 2];
}

// Pairs of runs, unsampled then sampled, of about 0.7 s of CPU each. Arguments: 0 on-CPU
// samples only, 1 also the context-switch samples (off-CPU); the frequency (999 Hz makes
// the per-sample cost ten times easier to see above the noise of a shared machine).
void BM_ProfileSamplerCost(benchmark::State& state) {
  constexpr std::uint64_t k_rounds = 300'000'000;
  constexpr int k_pairs = 7;
  std::vector<double> cpu_ratio;
  std::vector<double> wall_ratio;
  std::vector<double> drain_per_sample;
  std::size_t last_samples = 0;
  for (auto _ : state) {
    for (int pair = 0; pair < k_pairs; ++pair) {
      const ProfiledChild bare = run_profiled_child(k_rounds, false, false, 99);
      const ProfiledChild sampled = run_profiled_child(k_rounds, true, state.range(0) != 0,
                                                       static_cast<unsigned>(state.range(1)));
      last_samples = sampled.samples;
      cpu_ratio.push_back(sampled.cpu_ns / bare.cpu_ns);
      wall_ratio.push_back(sampled.wall_ns / bare.wall_ns);
      drain_per_sample.push_back(sampled.drain_cpu_ns /
                                 static_cast<double>(std::max<std::size_t>(sampled.samples, 1)));
    }
  }
  state.counters["cpu_ratio_median"] = profile_bench_median(cpu_ratio);
  state.counters["cpu_ratio_min"] = *std::min_element(cpu_ratio.begin(), cpu_ratio.end());
  state.counters["cpu_ratio_max"] = *std::max_element(cpu_ratio.begin(), cpu_ratio.end());
  state.counters["wall_ratio_median"] = profile_bench_median(wall_ratio);
  state.counters["drain_ns_per_sample_median"] = profile_bench_median(drain_per_sample);
  state.counters["samples_last"] = static_cast<double>(last_samples);
}
BENCHMARK(BM_ProfileSamplerCost)
    ->Args({0, 99})
    ->Args({1, 99})
    ->Args({0, 999})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace nrmlab
