// The recorder: per-step rows (time split, thread CPU and scheduling, work counters),
// memory and allocator statistics on a step cadence, the run's metric inputs, and the
// machine-wide side streams on a background thread -- all batched into telemetry.db off
// the engine's hot path. It measures its own cost (the observer effect) on every step.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "model/step_counters.hpp"
#include "telemetry/allocator.hpp"
#include "telemetry/probes.hpp"
#include "telemetry/provenance.hpp"
#include "telemetry/rows.hpp"
#include "telemetry/system_streams.hpp"
#include "telemetry/telemetry_store.hpp"

namespace nrmlab::telemetry {

struct RecorderOptions {
  std::filesystem::path db_path;
  std::int64_t rusage_every = 8;         // steps between getrusage readings (switches, faults)
  std::int64_t memory_every = 16;        // steps between RSS + allocator readings (0: off)
  std::int64_t pss_period_ms = 5000;     // PSS, on the side-stream thread (0: off)
  std::int64_t alloc_probe_every = 256;  // steps between allocation-latency probes (0: off)
  std::int64_t batch_steps = 256;        // steps per batch, at most ...
  std::int64_t batch_ms = 1000;          // ... and at most this long between batches
  std::int64_t side_period_ms = 250;     // side streams' period (0: off)
  bool record_inputs = true;             // the metric_inputs table (the replay trace)
  // The share of wall time the step thread's readings may cost: on steps too short for it a
  // reading's cadence stretches (ProbeCadence) and the CPU clock takes its switch-checked
  // shortcut (ThreadCpuClock). 0: every reading on its step cadence, the clock's call every
  // step (the behaviour before issue 21; src/telemetry/README.md has what 1% measured).
  double budget_share = 0.01;
  // Names of the conditions by index; empty: the engine's (OFF-OFF, ON-OFF, ...). A workload
  // that is not the NRM engine (`nrmlab validate`) names its own.
  std::vector<std::string> condition_names;
  // Process recycling runs one run in several processes, one after another: each later
  // process keeps the database (append) and measures time from the first one's origin
  // (CLOCK_MONOTONIC ns; 0: now), so t_ns runs on across processes.
  bool append = false;
  std::int64_t origin_ns = 0;
  BatchWriterOptions writer;  // the writer's timer and queue
  std::filesystem::path proc_root = "/proc";
  std::filesystem::path sys_root = "/sys";
  // Told once of anything that goes wrong; the run goes on.
  std::function<void(const std::string&)> warn;
};

// Validates the cadences; returns one message per bad value.
std::vector<std::string> validate(const RecorderOptions& options);

// A reading on a step cadence, stretched on short steps so that it costs the step thread at
// most its share of the wall time. A token bucket: credit accrues at `share` ns per ns of wall
// time, a reading is due on its step cadence only while the credit covers its cost (its
// durations, smoothed), and spends what it took. Each condition starts with credit for
// k_allowance readings, so a short condition keeps its full cadence (its charts have points)
// and a long one settles at the share. A zero share keeps the plain step cadence.
class ProbeCadence {
 public:
  static constexpr double k_allowance = 64;

  ProbeCadence(std::int64_t every_steps, double share) : m_every(every_steps), m_share(share) {}
  bool due(std::int64_t step, std::int64_t now_ns) const {
    if (m_every <= 0 || step % m_every != 0) return false;
    return m_share <= 0.0 || m_last_ns < 0 || credit_at(now_ns) >= m_cost_ns;
  }
  // A reading was taken from `start_ns` to `end_ns`.
  void taken(std::int64_t start_ns, std::int64_t end_ns) {
    const auto cost = static_cast<double>(end_ns - start_ns);
    if (m_last_ns < 0) {
      m_cost_ns = cost;
      m_credit_ns = k_allowance * cost;
    } else {
      m_cost_ns = 0.75 * m_cost_ns + 0.25 * cost;
      m_credit_ns = credit_at(start_ns);
    }
    m_credit_ns -= cost;
    m_last_ns = start_ns;
  }
  // A new condition: the allowance again (its cost is known by then).
  void restart() {
    if (m_last_ns >= 0) m_credit_ns = std::max(m_credit_ns, k_allowance * m_cost_ns);
  }

 private:
  double credit_at(std::int64_t now_ns) const {
    return std::min(m_credit_ns + static_cast<double>(now_ns - m_last_ns) * m_share,
                    k_allowance * m_cost_ns);
  }

  std::int64_t m_every;
  double m_share;
  std::int64_t m_last_ns = -1;
  double m_cost_ns = 0.0;
  double m_credit_ns = 0.0;  // as of m_last_ns
};

struct RecorderSummary {
  std::int64_t steps = 0;
  std::int64_t wall_ns = 0;            // sum of the recorded steps' wall time
  std::int64_t recorder_ns = 0;        // the recorder's own time on the engine thread
  std::int64_t background_cpu_ns = 0;  // its writer and side-stream threads
  // The writer's CPU time on the CPU the engine thread last ran on: the most the writer can
  // have taken from the engine by running in its place (BatchWriterStats::shared_cpu_ns).
  std::int64_t preempt_ns = 0;
  // All the time the engine thread lost to telemetry: its own recording and the writer.
  double recorder_share() const {
    return wall_ns > 0
               ? static_cast<double>(recorder_ns + preempt_ns) / static_cast<double>(wall_ns)
               : 0.0;
  }
};

class Recorder final : public model::StepObserver, public model::SampleObserver {
 public:
  // Creates telemetry.db afresh (a run directory holds one run: an existing telemetry.db is
  // replaced), writes the provenance plus `meta`, and starts the background threads.
  // Throws nrmlab::Error when the database cannot be created.
  Recorder(RecorderOptions options, MetaEntries meta);
  ~Recorder() override;
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // Tracks a file's size in the side streams (the databases and their WAL files).
  void track_file(std::string name, std::filesystem::path path);
  void on_condition_begin(int condition) override;
  void on_step(const model::StepRecord& record) override;
  void on_sample(const model::SampleKey& key, const model::MetricSample& sample) override;
  // A work counter of the step in progress that is not one of the engine's (step_work;
  // the analysis reads it as work.<name>). Call before that step's on_step.
  void record_work(std::int64_t step, std::string name, double value);
  // Flushes everything, stops the threads and writes the closing meta (recorder share,
  // failures, and `outcome`: how the run ended, e.g. "complete", "interrupted" or the
  // error). Idempotent; the destructor calls it with "abandoned".
  RecorderSummary finish(const std::string& outcome = "complete");
  const std::string& allocator_name() const { return m_allocator_name; }
  const std::filesystem::path& db_path() const { return m_options.db_path; }
  // The CLOCK_MONOTONIC instant t_ns counts from.
  std::int64_t origin_ns() const { return m_origin_ns; }
  // Rows from another source of this run (the stack sampler), written in order with the
  // recorder's own batches. Thread-safe; call it before finish().
  void submit(Batch&& batch) { m_writer.submit(std::move(batch)); }
  // The recorder's own threads (its writer, its side streams): a stack sampler of this
  // process leaves them out, as its own work is measured apart (recorder_ns, background).
  std::set<pid_t> own_threads() const;

 private:
  void flush(std::int64_t now_ns);
  void side_loop();
  void publish_position(int condition, std::int64_t step);
  // Thread-safe: records a problem in meta.failures and warns on the first one.
  void note_failure(const std::string& what);
  void read_earlier_summary();
  void append_closing_meta(const RecorderSummary& run, const BatchWriterStats& writer,
                           const std::string& outcome);
  void open_schedstat();
  void open_cpu_clock();
  void read_usage_into(StepRow& row);
  void read_memory(const model::StepRecord& record, std::int64_t enter);
  // The engine thread's CPU clock at a boundary (before on_condition_begin: the call).
  std::uint32_t cpu_sequence() const { return m_cpu_clock ? m_cpu_clock->sequence() : 0; }
  std::int64_t cpu_at(std::int64_t wall_ns, std::uint32_t sequence) {
    return m_cpu_clock ? m_cpu_clock->at(wall_ns, sequence) : thread_cpu_ns();
  }
  std::optional<std::int64_t> read_runq();

  RecorderOptions m_options;
  std::unique_ptr<AllocatorProbe> m_allocator;
  std::string m_allocator_name;
  ProcessMemory m_memory;       // the engine thread's (RSS)
  ProcessMemory m_memory_side;  // the side-stream thread's (PSS)
  SystemSampler m_system;
  BatchWriter m_writer;
  std::int64_t m_origin_ns = monotonic_ns();

  // Engine-thread state.
  Batch m_batch;
  int m_condition = 0;
  std::int64_t m_step_enter_ns = 0;  // when the current step's interval began
  std::int64_t m_step_enter_cpu_ns = 0;
  ThreadUsage m_usage;  // at the previous getrusage reading
  // The engine thread's schedstat, opened by the first on_condition_begin (the engine
  // thread, which need not be the one that made the recorder), and its run-queue delay at
  // the previous getrusage reading (absent when that reading failed).
  std::optional<ThreadSchedstat> m_schedstat;
  std::optional<ThreadCpuClock> m_cpu_clock;  // opened with m_schedstat, on the engine thread
  ProbeCadence m_usage_cadence;               // getrusage + run-queue delay
  ProbeCadence m_memory_cadence;              // RSS + allocator statistics
  ProbeCadence m_alloc_probe_cadence;         // the allocation-latency probe
  std::int64_t m_probe_set_ns = 0;            // the always-on probes with the CPU-clock call
  std::optional<std::int64_t> m_runq_ns;
  std::int64_t m_usage_steps = 0;          // steps since that reading
  std::int64_t m_pending_recorder_ns = 0;  // recorder time already inside this interval
  std::int64_t m_last_flush_ns = 0;
  std::int64_t m_steps_in_batch = 0;
  RecorderSummary m_summary;
  // What the run's earlier processes recorded (process recycling appends): the closing
  // meta covers the whole run, not just this process.
  RecorderSummary m_earlier;
  std::string m_earlier_failures;
  bool m_finished = false;

  // Shared with the side-stream thread. The position is the step in progress, condition
  // in the high 32 bits, so the two are read together.
  std::atomic<std::uint64_t> m_position{0};
  std::atomic<std::int64_t> m_side_cpu_ns{0};
  std::mutex m_side_mutex;
  std::condition_variable m_side_wake;
  bool m_side_stop = false;
  std::atomic<pid_t> m_side_tid{0};
  std::thread m_side_thread;

  std::mutex m_failure_mutex;
  std::vector<std::string> m_failures;
};

}  // namespace nrmlab::telemetry
