// What the recorder costs the step thread (issue 21), with and without a competing load:
// fixed-work steps of about 20 µs (the whole C256's size) run bare, bare plus the CPU-clock
// read the recorder makes every step, under the recorder (the writer on its timer), and
// under the recorder's writer as it was before issue 21 (a wake-up per batch), in rotating
// order within each repetition. The cost of a recorded run is its loss against the bare run
// of the same repetition: everything the step thread lost to telemetry, its own recording
// calls and preemption by the writer alike; split into the step thread's extra CPU time and
// its extra run-queue delay (schedstat). Medians over the repetitions, as ratios measured in
// the same run. The competing load is one busy-looping process per core, started here.
//
// usage: nrmlab_recorder_load_bench [REPETITIONS [STEPS]]   (prints one JSON line)
#include <fmt/format.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "telemetry/probes.hpp"
#include "telemetry/recorder.hpp"

namespace nrmlab {
namespace {

// cpu_clock: bare steps plus the recorder's one system call per step (the CPU clock), to
// tell the cost of that call from the rest of the recorder's.
enum class Mode { bare, cpu_clock, timer, wake_per_batch };
constexpr const char* k_mode_names[] = {"bare", "cpu_clock", "timer", "wake_per_batch"};
constexpr int k_modes = 4;

struct Measured {
  double wall_ns = 0;
  double cpu_ns = 0;        // the step thread's CPU time
  double runq_ns = 0;       // the step thread's run-queue delay
  double involuntary = 0;   // its involuntary context switches
  double minor_faults = 0;  // its minor page faults (first touches of new memory)
  double recorder_ns = 0;   // the recorder's own measure: its calls on the step thread
  double preempt_ns = 0;    // ... and the writer's CPU where the step thread last ran
};

// A fixed amount of arithmetic: a dependent chain the compiler cannot shorten.
double fixed_work(std::int64_t iterations, double seed) {
  double x = seed;
  for (std::int64_t i = 0; i < iterations; ++i)
    x = x * 0.999999 + 1e-7;
  return x;
}

// Iterations that take about `target_ns` on an idle core (the fastest of several tries).
std::int64_t calibrate(std::int64_t target_ns) {
  constexpr std::int64_t k_probe = 1'000'000;
  std::int64_t best = INT64_MAX;
  for (int i = 0; i < 5; ++i) {
    const std::int64_t start = telemetry::monotonic_ns();
    volatile double sink = fixed_work(k_probe, 1.0);
    (void)sink;
    best = std::min(best, telemetry::monotonic_ns() - start);
  }
  return std::max<std::int64_t>(1, k_probe * target_ns / best);
}

Measured run_steps(Mode mode, std::int64_t steps, std::int64_t iterations,
                   const std::filesystem::path& dir) {
  std::optional<telemetry::Recorder> recorder;
  if (mode == Mode::timer || mode == Mode::wake_per_batch) {
    telemetry::RecorderOptions options;  // the defaults of `nrmlab run` (budget 1%)
    options.db_path = dir / fmt::format("{}.db", k_mode_names[static_cast<int>(mode)]);
    options.writer.wake_every_submit = mode == Mode::wake_per_batch;

    recorder.emplace(options, telemetry::MetaEntries{});
  }
  telemetry::ThreadSchedstat schedstat;
  rusage before{};
  getrusage(RUSAGE_THREAD, &before);
  const auto runq_before = schedstat.read();
  const std::int64_t cpu_start = telemetry::thread_cpu_ns();
  const std::int64_t start = telemetry::monotonic_ns();
  if (recorder) recorder->on_condition_begin(0);
  model::StepRecord record;
  model::MetricSample sample;
  double sink = 1.0;
  for (record.step = 0; record.step < steps; ++record.step) {
    sink = fixed_work(iterations, sink);
    if (mode == Mode::cpu_clock) sink += static_cast<double>(telemetry::thread_cpu_ns() & 1);
    if (recorder) {
      recorder->on_sample({0, record.step, 0}, sample);
      recorder->on_step(record);
    }
  }
  Measured m;
  m.wall_ns = static_cast<double>(telemetry::monotonic_ns() - start);
  m.cpu_ns = static_cast<double>(telemetry::thread_cpu_ns() - cpu_start);
  const auto runq_after = schedstat.read();
  rusage after{};
  getrusage(RUSAGE_THREAD, &after);
  if (runq_before && runq_after)
    m.runq_ns = static_cast<double>(runq_after->runq_ns - runq_before->runq_ns);
  m.involuntary = static_cast<double>(after.ru_nivcsw - before.ru_nivcsw);
  m.minor_faults = static_cast<double>(after.ru_minflt - before.ru_minflt);
  if (recorder) {
    const telemetry::RecorderSummary summary = recorder->finish();
    m.recorder_ns = static_cast<double>(summary.recorder_ns);
    m.preempt_ns = static_cast<double>(summary.preempt_ns);
  }
  if (sink == 42.0) std::puts("");  // keeps the work
  return m;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n == 0 ? 0.0 : n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// One busy-looping child per core, killed by the caller.
std::vector<pid_t> start_load(unsigned count) {
  std::vector<pid_t> children;
  for (unsigned i = 0; i < count; ++i) {
    const pid_t pid = fork();
    if (pid == 0) {
      volatile std::uint64_t spin = 0;
      for (;;)
        spin = spin + 1;
    }
    if (pid > 0) children.push_back(pid);
  }
  return children;
}

void stop_load(const std::vector<pid_t>& children) {
  for (const pid_t pid : children)
    kill(pid, SIGKILL);
  for (const pid_t pid : children)
    waitpid(pid, nullptr, 0);
}

// The repetitions of one load condition, as one JSON object.
std::string measure(const char* load, int repetitions, std::int64_t steps, std::int64_t iterations,
                    const std::filesystem::path& dir) {
  std::vector<double> loss[k_modes], cpu_us[k_modes], cpu_cost[k_modes], runq_extra[k_modes],
      share[k_modes], preempt[k_modes], runq[k_modes], involuntary[k_modes], step_us[k_modes],
      faults[k_modes];
  for (int rep = 0; rep < repetitions; ++rep) {
    Measured m[k_modes];
    for (int k = 0; k < k_modes; ++k) {  // rotating order: no mode always runs first
      const int mode = (rep + k) % k_modes;
      m[mode] = run_steps(static_cast<Mode>(mode), steps, iterations, dir);
    }
    for (int mode = 0; mode < k_modes; ++mode) {
      loss[mode].push_back((m[mode].wall_ns - m[0].wall_ns) / m[mode].wall_ns);
      // The loss in two parts: the step thread's own extra CPU (the recorder's calls), and
      // its extra wait for a CPU (preemption by the writer, more switches).
      cpu_cost[mode].push_back((m[mode].cpu_ns - m[0].cpu_ns) / m[mode].wall_ns);
      cpu_us[mode].push_back((m[mode].cpu_ns - m[0].cpu_ns) / static_cast<double>(steps) / 1e3);
      runq_extra[mode].push_back((m[mode].runq_ns - m[0].runq_ns) / m[mode].wall_ns);
      share[mode].push_back((m[mode].recorder_ns + m[mode].preempt_ns) / m[mode].wall_ns);
      preempt[mode].push_back(m[mode].preempt_ns / m[mode].wall_ns);
      runq[mode].push_back(m[mode].runq_ns / m[mode].wall_ns);
      involuntary[mode].push_back(m[mode].involuntary);
      faults[mode].push_back(m[mode].minor_faults);
      step_us[mode].push_back(m[mode].wall_ns / static_cast<double>(steps) / 1e3);
    }
  }
  std::string json = fmt::format("\"{}\": {{", load);
  for (int mode = 0; mode < k_modes; ++mode)
    json += fmt::format(
        "{}\"{}\": {{\"step_us\": {:.3f}, \"loss_vs_bare\": {:.4f}, \"loss_min\": {:.4f}, "
        "\"loss_max\": {:.4f}, \"cpu_cost\": {:.4f}, \"cpu_us_per_step\": {:.3f}, \"runq_extra\": "
        "{:.4f}, \"recorder_share\": "
        "{:.4f}, \"preempt_share\": {:.4f}, "
        "\"runq_share\": {:.4f}, \"involuntary_switches\": {:.0f}, \"minor_faults\": {:.0f}}}",
        mode ? ", " : "", k_mode_names[mode], median(step_us[mode]), median(loss[mode]),
        *std::min_element(loss[mode].begin(), loss[mode].end()),
        *std::max_element(loss[mode].begin(), loss[mode].end()), median(cpu_cost[mode]),
        median(cpu_us[mode]), median(runq_extra[mode]), median(share[mode]), median(preempt[mode]),
        median(runq[mode]), median(involuntary[mode]), median(faults[mode]));
  return json + "}";
}

}  // namespace
}  // namespace nrmlab

int main(int argc, char** argv) {
  using namespace nrmlab;
  const int repetitions = argc > 1 ? std::stoi(argv[1]) : 9;
  const std::int64_t steps = argc > 2 ? std::stoll(argv[2]) : 20'000;
  const auto dir =
      std::filesystem::temp_directory_path() / fmt::format("nrmlab-load-bench-{}", getpid());
  std::filesystem::create_directories(dir);
  const std::int64_t iterations = calibrate(20'000);
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  double load_before[3] = {};
  getloadavg(load_before, 3);
  const std::string idle = measure("no_load", repetitions, steps, iterations, dir);
  const std::vector<pid_t> children = start_load(cores);
  const std::string loaded = measure("busy_loop_per_core", repetitions, steps, iterations, dir);
  stop_load(children);
  std::filesystem::remove_all(dir);
  std::printf(
      "{\"bench\": \"recorder_load\", \"repetitions\": %d, \"steps\": %lld, \"cores\": %u, "
      "\"loadavg_before\": %.2f, %s, %s}\n",
      repetitions, static_cast<long long>(steps), cores, load_before[0], idle.c_str(),
      loaded.c_str());
}
