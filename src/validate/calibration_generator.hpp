// Synthetic telemetry for the calibration suite (`nrmlab validate --calibrate`): a run whose
// truth is planted, built as analysis::RunData in memory (no database, so thousands of runs
// take seconds). A family states each step's parts (PlantedStep) and its side streams; this
// file turns them into exactly the columns the telemetry reader hands the analysis, on the
// recorder's cadences (getrusage every 8 steps, memory every 16, the side stream every 25).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "analysis/run_data.hpp"
#include "telemetry/profile/profile_data.hpp"

namespace nrmlab::validate::calibration {

using Rng = std::mt19937_64;

// One step's planted parts, in ns. Wall time is their sum; CPU time is wall time less what
// is spent off the CPU (the window's deliberate sleep, blocking waits, run-queue delay).
struct PlantedStep {
  double compute_ns = 0.0;           // the model's own computation, on the CPU
  double blocked_ns = 0.0;           // off the CPU outside any section (page-ins, reads)
  double database_ns = 0.0;          // the database section, all of it ...
  double database_blocked_ns = 0.0;  // ... of which waiting off the CPU (fsync)
  double sampling_ns = 0.0;
  double window_ns = 0.0;  // deliberate sleep in the sample window (off the CPU)
  double recorder_ns = 0.0;
  double runq_ns = 0.0;      // runnable, waiting for a CPU (off the CPU)
  double preemptions = 0.0;  // involuntary context switches during the step
  // What a CPU-frequency sensor read at this step would show (kHz); NaN: no sensors.
  double cpu_khz = std::numeric_limits<double>::quiet_NaN();
  // Work counters by column name: the engine's (agents, evolve_calls, ...) and work.<name>.
  // A counter not set is 0 (work.<name>: absent from the run unless some step sets it).
  std::map<std::string, double> counters;

  double wall_ns() const;
  double cpu_ns() const;
};

// One memory-table reading (absent allocator statistics stay NaN).
struct MemoryReading {
  double rss_bytes = 0.0;
  double allocated = std::numeric_limits<double>::quiet_NaN();
  double active = std::numeric_limits<double>::quiet_NaN();
  double resident = std::numeric_limits<double>::quiet_NaN();
  double mapped = std::numeric_limits<double>::quiet_NaN();
};

// One side-stream sample: the machine as the system sampler sees it.
struct SystemReading {
  double cpu_percent = 50.0;
  double memory_percent = 40.0;
  double load1 = 1.0;
  double procs_running = 1.0;
  double other_cpu_ns = 0.0;  // other processes' CPU since the previous sample
};

// What is known when a side reading is taken: the condition's steps so far.
struct SideContext {
  std::size_t step_index = 0;  // the step just completed, from 0
  std::size_t steps = 0;       // of the condition
  const std::vector<PlantedStep>* planted = nullptr;
  double interval_ns = 0.0;  // wall time since the previous side sample
};

// A condition: its steps and side streams, each a function of the step (and the random
// stream, drawn in step order so a seed fixes everything).
struct ConditionPlan {
  std::string name;
  std::size_t steps = 400;
  std::function<PlantedStep(std::size_t index, Rng& rng)> step;
  // Optional: without it the memory table has RSS only (constant).
  std::function<MemoryReading(const SideContext& at, Rng& rng)> memory;
  std::function<SystemReading(const SideContext& at, Rng& rng)> system;  // optional
  // With each side sample, a sensor reading: the step's cpu_khz (when it has one).
  // Size of the run's databases (bytes) with each side sample, when it writes any.
  std::function<double(const SideContext& at)> database_bytes;
};

struct RunPlan {
  std::vector<ConditionPlan> conditions;
  bool runq_recorded = true;  // false: telemetry from before runq_ns (column all NaN)
};

inline constexpr std::int64_t k_usage_every = 8;
inline constexpr std::int64_t k_memory_every = 16;
inline constexpr std::int64_t k_system_every = 25;

// The run as the telemetry reader would hand it to the analysis.
analysis::RunData build_run(const RunPlan& plan, Rng& rng, const std::string& id);

// The stack samples a wall-clock profiler would take of `run` (issue 19): every step's time
// runs through one function per part of the step, in order -- evolve_agents (compute_ns),
// commit_rows (database_ns), sample_metrics (sampling_ns, then window_ns as a sleep),
// record_step (recorder_ns), each called from main -- and a sample every `period_ns` (at a
// random phase) is charged to the part running then, in windows of `window_ns`.
inline constexpr std::int64_t k_profile_window_ns = 20'000'000;
inline constexpr double k_profile_period_ns = 100'000;
telemetry::profile::ProfileData synthetic_profile(const analysis::RunData& run, Rng& rng,
                                                  std::int64_t window_ns = k_profile_window_ns,
                                                  double period_ns = k_profile_period_ns);

// Stationary AR(1) noise with marginal standard deviation `sd` (phi 0: independent), begun
// in its stationary distribution (x0 ~ N(0, sd^2), innovations sd sqrt(1 - phi^2); Box &
// Jenkins, Time Series Analysis, ch. 3) so a short condition has no start-up transient.
class ArNoise {
 public:
  ArNoise(double phi, double sd) : m_phi(phi), m_sd(sd) {}
  double next(Rng& rng);

 private:
  double m_phi;
  double m_sd;
  bool m_started = false;
  double m_value = 0.0;
};

double normal(Rng& rng, double mean, double sd);
double poisson(Rng& rng, double mean);
double uniform(Rng& rng, double low, double high);

}  // namespace nrmlab::validate::calibration
