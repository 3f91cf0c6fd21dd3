#include "telemetry/recorder.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>

#include "model/experiment.hpp"
#include "util/error.hpp"
#include "util/sqlite.hpp"

namespace nrmlab::telemetry {
namespace {

// How the step thread's budget (RecorderOptions::budget_share) is split: the CPU-clock
// system call, before the switch-checked shortcut takes over; getrusage with the run-queue
// delay; RSS with the allocator statistics; the allocation probe. The rest, half of it, is
// left for what every step does anyway (its clock reads, a row, the batches' hand-over).
// The recorder's own share of 50 µs steps at a budget of 1% (nrmlab_recorder_load_bench):
// 0.7-1.4% with 0.7 given to the readings (three runs), 0.7-1.2% with this half (four),
// 0.75-1.0% with 0.3 (two): the always-on part is most of it, so a smaller split would
// buy little and cost readings.
constexpr double k_cpu_clock_part = 0.2;
constexpr double k_usage_part = 0.1;
constexpr double k_memory_part = 0.1;
constexpr double k_alloc_probe_part = 0.1;

// The cost of one clock read and of the always-on probe set, measured here and now: the
// analysis uses them to bound the observer effect of section timing.
std::pair<std::int64_t, std::int64_t> calibrate() {
  constexpr int k_reads = 2000;
  std::int64_t sink = 0;
  const std::int64_t start = monotonic_ns();
  for (int i = 0; i < k_reads; ++i)
    sink += monotonic_ns();
  const std::int64_t clock_ns = (monotonic_ns() - start) / k_reads;
  const std::int64_t probe_start = monotonic_ns();
  for (int i = 0; i < k_reads / 4; ++i)
    sink += monotonic_ns() + thread_cpu_ns();
  const std::int64_t probe_ns = (monotonic_ns() - probe_start) / (k_reads / 4);
  return {clock_ns + (sink == 42 ? 1 : 0), probe_ns};
}

// A run directory holds one run: a database left by an earlier run there is replaced, not
// merged into (its step keys would collide and its clocks restart).
// A run directory holds one run: a new run replaces its telemetry (unless it continues one).
RecorderOptions fresh_database(RecorderOptions options) {
  std::error_code ec;
  if (!options.append)
    for (const char* suffix : {"", "-wal", "-shm", "-journal"})
      std::filesystem::remove(options.db_path.string() + suffix, ec);
  return options;
}

}  // namespace

std::vector<std::string> validate(const RecorderOptions& options) {
  std::vector<std::string> problems;
  const auto check = [&](const char* name, std::int64_t value, std::int64_t low) {
    if (value < low || value > 1'000'000'000)
      problems.push_back(fmt::format("{} must be in [{}, 1000000000], got {}", name, low, value));
  };
  check("rusage cadence", options.rusage_every, 1);
  check("memory cadence", options.memory_every, 0);
  check("PSS period (ms)", options.pss_period_ms, 0);
  check("allocation probe cadence", options.alloc_probe_every, 0);
  check("batch size in steps", options.batch_steps, 1);
  check("batch interval (ms)", options.batch_ms, 1);
  check("side-stream period (ms)", options.side_period_ms, 0);
  if (!(options.budget_share >= 0.0 && options.budget_share <= 1.0))
    problems.push_back(
        fmt::format("telemetry budget share must be in [0, 1], got {}", options.budget_share));
  return problems;
}

Recorder::Recorder(RecorderOptions options, MetaEntries meta)
    : m_options(fresh_database(std::move(options))),
      m_allocator(detect_allocator()),
      m_allocator_name(m_allocator->name()),
      m_memory(m_options.proc_root / "self"),
      m_memory_side(m_options.proc_root / "self"),
      m_system(m_options.proc_root, m_options.sys_root),
      m_writer(m_options.db_path, m_options.writer),
      m_usage_cadence(m_options.rusage_every, k_usage_part * m_options.budget_share),
      m_memory_cadence(m_options.memory_every, k_memory_part * m_options.budget_share),
      m_alloc_probe_cadence(m_options.alloc_probe_every,
                            k_alloc_probe_part * m_options.budget_share) {
  if (!m_options.warn) m_options.warn = [](const std::string&) {};
  if (m_options.origin_ns > 0) m_origin_ns = m_options.origin_ns;
  const auto problems = validate(m_options);
  if (!problems.empty()) throw Error("invalid telemetry options: " + problems.front());

  Batch first;
  first.meta = collect_provenance(*m_allocator, m_system, m_options.proc_root, m_options.sys_root);
  first.meta.emplace_back("schema", k_telemetry_schema_version);
  first.meta.insert(first.meta.end(), meta.begin(), meta.end());
  // A later process of a recycled run keeps the first one's origin and its start time.
  if (!m_options.append)
    for (auto& entry : start_time_meta(m_origin_ns))
      first.meta.push_back(std::move(entry));
  const auto [clock_ns, probe_ns] = calibrate();
  m_probe_set_ns = probe_ns;
  first.meta.emplace_back("clock_read_ns", std::to_string(clock_ns));
  first.meta.emplace_back("probe_set_ns", std::to_string(probe_ns));
  first.meta.emplace_back("cadence.rusage_every_steps", std::to_string(m_options.rusage_every));
  first.meta.emplace_back("cadence.memory_every_steps", std::to_string(m_options.memory_every));
  first.meta.emplace_back("cadence.alloc_probe_every_steps",
                          std::to_string(m_options.alloc_probe_every));
  first.meta.emplace_back("cadence.side_period_ms", std::to_string(m_options.side_period_ms));
  first.meta.emplace_back("cadence.pss_period_ms", std::to_string(m_options.pss_period_ms));
  first.meta.emplace_back("cadence.budget_share", fmt::format("{}", m_options.budget_share));
  first.meta.emplace_back("complete", "false");
  first.meta.emplace_back("outcome", "running");
  m_writer.submit(std::move(first));
  if (m_allocator_name.rfind("unknown", 0) == 0)
    note_failure("no allocator statistics: malloc is served by " + m_allocator_name);

  m_batch.steps.reserve(static_cast<std::size_t>(m_options.batch_steps));
  m_batch.samples.reserve(static_cast<std::size_t>(m_options.batch_steps));
  m_last_flush_ns = monotonic_ns();
  m_step_enter_ns = m_last_flush_ns;
  m_step_enter_cpu_ns = thread_cpu_ns();
  m_usage = read_thread_usage();
  if (m_options.append) read_earlier_summary();
  if (m_options.side_period_ms > 0) m_side_thread = std::thread([this] { side_loop(); });
}

void Recorder::read_earlier_summary() {
  try {
    sqlite::Connection db(m_options.db_path);
    sqlite::Statement rows(
        db,
        "SELECT key, value FROM meta WHERE key IN ('steps_recorded', "
        "'recorder_ns', 'wall_ns', 'recorder_background_cpu_ns', 'recorder_preempt_ns', "
        "'failures')");
    while (rows.step()) {
      const std::string key = rows.column_text(0);
      const std::string value = rows.column_text(1);
      const auto number = [&] { return value.empty() ? 0 : std::stoll(value); };
      if (key == "steps_recorded") m_earlier.steps = number();
      if (key == "recorder_ns") m_earlier.recorder_ns = number();
      if (key == "wall_ns") m_earlier.wall_ns = number();
      if (key == "recorder_background_cpu_ns") m_earlier.background_cpu_ns = number();
      if (key == "recorder_preempt_ns") m_earlier.preempt_ns = number();
      if (key == "failures") m_earlier_failures = value;
    }
  } catch (const std::exception& error) {
    note_failure(std::string("the earlier processes' telemetry summary is unreadable: ") +
                 error.what());
  }
}

Recorder::~Recorder() {
  try {
    finish("abandoned");
  } catch (...) {
    // A destructor must not throw; finish() already reported what it could.
  }
}

void Recorder::track_file(std::string name, std::filesystem::path path) {
  std::lock_guard lock(m_side_mutex);
  m_system.track_file(std::move(name), std::move(path));
}

void Recorder::note_failure(const std::string& what) {
  std::lock_guard lock(m_failure_mutex);
  if (std::find(m_failures.begin(), m_failures.end(), what) != m_failures.end()) return;
  m_failures.push_back(what);
  if (m_failures.size() == 1) m_options.warn(what);
}

void Recorder::publish_position(int condition, std::int64_t step) {
  m_position.store((static_cast<std::uint64_t>(condition) << 32) |
                       (static_cast<std::uint64_t>(step) & 0xffffffffULL),
                   std::memory_order_relaxed);
}

void Recorder::on_condition_begin(int condition) {
  if (!m_schedstat) {
    // Once, on the engine thread, before the interval starts: the step path's clocks are
    // in place at its first boundary. Recorder time, though in no step.
    const std::int64_t opening = monotonic_ns();
    open_schedstat();
    open_cpu_clock();
    m_writer.set_engine_thread(::gettid());
    m_summary.recorder_ns += monotonic_ns() - opening;
  }
  const std::uint32_t sequence = cpu_sequence();
  const std::int64_t enter = monotonic_ns();
  // The recorder's work after the previous condition's last step belongs to no step.
  m_summary.recorder_ns += m_pending_recorder_ns;
  publish_position(condition, 0);
  m_condition = condition;
  const auto index = static_cast<std::size_t>(condition);
  m_batch.conditions.emplace_back(
      condition, index < m_options.condition_names.size()
                     ? m_options.condition_names[index]
                     : std::string(model::condition_name(model::condition_at(condition))));
  m_usage = read_thread_usage();
  m_runq_ns = read_runq();
  m_usage_steps = 0;
  for (ProbeCadence* cadence : {&m_usage_cadence, &m_memory_cadence, &m_alloc_probe_cadence})
    cadence->restart();
  // Step 0's interval (which includes the condition's setup) starts here; the rest of
  // this function is recorder time inside it.
  m_step_enter_ns = enter;
  m_step_enter_cpu_ns = cpu_at(enter, sequence);
  m_pending_recorder_ns = monotonic_ns() - enter;
}

// The engine thread's CPU clock: switch-checked where perf events allow, its system call
// kept for intervals long enough that the call costs under its part of the budget.
void Recorder::open_cpu_clock() {
  const double share = k_cpu_clock_part * m_options.budget_share;
  m_cpu_clock.emplace(
      share > 0.0 ? static_cast<std::int64_t>(static_cast<double>(m_probe_set_ns) / share) : 0);
  m_batch.meta.emplace_back("probe.cpu_clock", m_cpu_clock->how());
}

// Once, on the engine thread: /proc/thread-self names the thread that opens it.
void Recorder::open_schedstat() {
  m_schedstat.emplace(m_options.proc_root);
  const std::string& why = m_schedstat->unavailable();
  m_batch.meta.emplace_back("probe.runq", why.empty() ? "schedstat" : "unavailable: " + why);
  if (!why.empty()) note_failure("no run-queue delay: " + why);
}

// The engine thread's cumulative run-queue delay now; absent (and the failure noted) when
// it cannot be read.
std::optional<std::int64_t> Recorder::read_runq() {
  if (!m_schedstat || !m_schedstat->unavailable().empty()) return std::nullopt;
  const auto stat = m_schedstat->read();
  if (!stat) {
    note_failure("cannot read " + m_schedstat->path() + "; run-queue delay absent there");
    return std::nullopt;
  }
  return stat->runq_ns;
}

void Recorder::on_sample(const model::SampleKey& key, const model::MetricSample& sample) {
  if (!m_options.record_inputs) return;
  const std::int64_t enter = monotonic_ns();
  m_batch.samples.push_back({key, sample});
  m_pending_recorder_ns += monotonic_ns() - enter;
}

void Recorder::record_work(std::int64_t step, std::string name, double value) {
  const std::int64_t enter = monotonic_ns();
  m_batch.work.push_back({m_condition, step, std::move(name), value});
  m_pending_recorder_ns += monotonic_ns() - enter;
}

void Recorder::on_step(const model::StepRecord& record) {
  // The step's interval ends here, before the recorder does anything: the always-on
  // probe set is these two readings, in the order every interval starts with, so wall and
  // CPU cover one span. (Reading the wall clock after the CPU clock, to give the step a
  // preemption delivered on the call's return, made a CPU-bound step's CPU exceed its wall
  // time by the call's duration: the next span's CPU began before its wall time.)
  const std::uint32_t sequence = cpu_sequence();
  const std::int64_t enter = monotonic_ns();
  const std::int64_t cpu = cpu_at(enter, sequence);

  StepRow row;
  row.condition = record.condition;
  row.step = record.step;
  row.t_ns = m_step_enter_ns - m_origin_ns;
  row.wall_ns = enter - m_step_enter_ns;
  row.cpu_ns = cpu - m_step_enter_cpu_ns;
  row.sections = record.sections;
  row.counters = record.counters;
  row.recorder_ns = m_pending_recorder_ns;  // recorder work already inside this interval
  ++m_usage_steps;
  if (m_usage_cadence.due(record.step + 1, enter)) read_usage_into(row);
  m_summary.steps += 1;
  m_summary.wall_ns += row.wall_ns;
  m_summary.recorder_ns += row.recorder_ns;
  m_batch.steps.push_back(row);

  read_memory(record, enter);
  publish_position(record.condition, record.step + 1);
  ++m_steps_in_batch;
  if (m_steps_in_batch >= m_options.batch_steps ||
      enter - m_last_flush_ns >= m_options.batch_ms * 1'000'000)
    flush(enter);

  // Everything from `enter` on is the recorder's own work; it falls into the next step's
  // interval, which starts at `enter` (entry to entry, so CPU and wall cover one span).
  m_pending_recorder_ns = monotonic_ns() - enter;
  m_step_enter_ns = enter;
  m_step_enter_cpu_ns = cpu;
}

// getrusage and the run-queue delay since the previous reading, into the step's row.
void Recorder::read_usage_into(StepRow& row) {
  const std::int64_t start = monotonic_ns();
  const ThreadUsage usage = read_thread_usage();
  row.usage_steps = m_usage_steps;
  row.user_ns = usage.user_ns - m_usage.user_ns;
  row.system_ns = usage.system_ns - m_usage.system_ns;
  row.voluntary_switches = usage.voluntary_switches - m_usage.voluntary_switches;
  row.involuntary_switches = usage.involuntary_switches - m_usage.involuntary_switches;
  row.minor_faults = usage.minor_faults - m_usage.minor_faults;
  row.major_faults = usage.major_faults - m_usage.major_faults;
  m_usage = usage;
  // On the getrusage cadence, so the delay covers the same steps as the switch counts.
  const auto runq = read_runq();
  if (runq && m_runq_ns) row.runq_ns = *runq - *m_runq_ns;
  m_runq_ns = runq;
  m_usage_steps = 0;
  m_usage_cadence.taken(start, monotonic_ns());
}

// RSS with the allocator statistics, and the allocation probe, each when its cadence is due.
void Recorder::read_memory(const model::StepRecord& record, std::int64_t enter) {
  const bool memory_due = m_memory_cadence.due(record.step, enter);
  const bool probe_due = m_alloc_probe_cadence.due(record.step, enter);
  if (!memory_due && !probe_due) return;
  MemoryRow memory;
  memory.condition = record.condition;
  memory.step = record.step;
  memory.t_ns = enter - m_origin_ns;
  if (memory_due) {
    const std::int64_t start = monotonic_ns();
    memory.rss_bytes = m_memory.rss_bytes();
    if (!memory.rss_bytes)
      note_failure("cannot read RSS from " + (m_options.proc_root / "self/statm").string());
    memory.allocator = m_allocator->read();
    m_memory_cadence.taken(start, monotonic_ns());
  }
  if (probe_due) {
    const std::int64_t start = monotonic_ns();
    memory.alloc_probe_ns = time_allocation_probe();
    m_alloc_probe_cadence.taken(start, monotonic_ns());
  }
  m_batch.memory.push_back(memory);
}

void Recorder::flush(std::int64_t now_ns) {
  if (const auto error = m_writer.error())
    note_failure("telemetry.db: " + *error + "; telemetry stops, the run goes on");
  m_writer.submit(std::move(m_batch));
  m_batch = Batch{};
  // Rows accumulate on the engine thread: growing the vectors from empty every batch would
  // cost more than the rows themselves.
  m_batch.steps.reserve(static_cast<std::size_t>(m_options.batch_steps));
  m_batch.samples.reserve(static_cast<std::size_t>(m_options.batch_steps));
  m_steps_in_batch = 0;
  m_last_flush_ns = now_ns;
}

std::set<pid_t> Recorder::own_threads() const {
  std::set<pid_t> threads{m_writer.tid()};
  if (m_side_thread.joinable()) {
    pid_t side = 0;
    while ((side = m_side_tid.load()) == 0)
      std::this_thread::yield();
    threads.insert(side);
  }
  return threads;
}

void Recorder::side_loop() {
  m_side_tid.store(::gettid());
  schedule_as_batch();  // its period must not preempt the engine either
  const auto period = std::chrono::milliseconds(m_options.side_period_ms);
  // PSS walks every page table of the process: far too dear for the engine thread, and
  // slow-moving enough for a period of seconds.
  const std::int64_t pss_period_ns = m_options.pss_period_ms * 1'000'000;
  std::optional<std::int64_t> last_pss_ns;
  std::size_t failures_seen = 0;
  std::unique_lock lock(m_side_mutex);
  for (;;) {
    Batch batch;
    const std::int64_t now = monotonic_ns();
    const std::int64_t t = now - m_origin_ns;
    const std::uint64_t position = m_position.load(std::memory_order_relaxed);
    const auto condition = static_cast<int>(position >> 32);
    const auto step = static_cast<std::int64_t>(position & 0xffffffffULL);
    SystemRow row{t, model::wall_clock_seconds(), condition, step, m_system.sample_system(), {}};
    if (pss_period_ns > 0 && (!last_pss_ns || now - *last_pss_ns >= pss_period_ns)) {
      row.pss_bytes = m_memory_side.pss_bytes();
      if (!row.pss_bytes)
        m_system.note_failure("cannot read PSS from " +
                              (m_options.proc_root / "self/smaps_rollup").string());
      last_pss_ns = now;
    }
    batch.system.push_back(std::move(row));
    for (auto& reading : m_system.sample_sensors())
      batch.sensors.push_back({t, condition, step, std::move(reading)});
    for (auto& file : m_system.sample_files())
      batch.files.push_back({t, condition, step, std::move(file)});
    m_writer.submit(std::move(batch));
    // Report new problems now, not at the end of the run.
    const auto& failures = m_system.failures();
    for (; failures_seen < failures.size(); ++failures_seen)
      note_failure(failures[failures_seen]);
    m_side_cpu_ns.store(thread_cpu_ns(), std::memory_order_relaxed);
    // Stop only after a sample, so the streams always cover the run's end.
    if (m_side_stop) break;
    m_side_wake.wait_for(lock, period, [&] { return m_side_stop; });
  }
}

RecorderSummary Recorder::finish(const std::string& outcome) {
  if (m_finished) return m_summary;
  m_finished = true;
  if (m_side_thread.joinable()) {
    {
      std::lock_guard lock(m_side_mutex);
      m_side_stop = true;
    }
    m_side_wake.notify_one();
    m_side_thread.join();
  }
  m_summary.recorder_ns += m_pending_recorder_ns;  // after the last step: in no step
  m_pending_recorder_ns = 0;
  for (const auto& failure : m_system.failures())
    note_failure(failure);
  if (const auto error = m_writer.error())
    note_failure("telemetry.db: " + *error + "; telemetry stops, the run goes on");

  m_summary.background_cpu_ns = m_side_cpu_ns.load() + m_writer.cpu_ns();
  // Every step is done: what the writer does from here on takes nothing from one.
  const BatchWriterStats writer = m_writer.stats();
  m_summary.preempt_ns = writer.shared_cpu_ns;
  RecorderSummary run = m_summary;
  run.steps += m_earlier.steps;
  run.recorder_ns += m_earlier.recorder_ns;
  run.wall_ns += m_earlier.wall_ns;
  run.background_cpu_ns += m_earlier.background_cpu_ns;
  run.preempt_ns += m_earlier.preempt_ns;
  append_closing_meta(run, writer, outcome);
  m_writer.submit(std::move(m_batch));
  m_writer.close();
  m_summary.background_cpu_ns = m_side_cpu_ns.load() + m_writer.cpu_ns();
  return m_summary;
}

void Recorder::append_closing_meta(const RecorderSummary& run, const BatchWriterStats& writer,
                                   const std::string& outcome) {
  auto& meta = m_batch.meta;
  meta.emplace_back("complete", "true");
  meta.emplace_back("outcome", outcome);
  meta.emplace_back("steps_recorded", std::to_string(run.steps));
  meta.emplace_back("recorder_ns", std::to_string(run.recorder_ns));
  meta.emplace_back("recorder_preempt_ns", std::to_string(run.preempt_ns));
  meta.emplace_back("wall_ns", std::to_string(run.wall_ns));
  meta.emplace_back("recorder_share", fmt::format("{:.6f}", run.recorder_share()));
  meta.emplace_back("recorder_background_cpu_ns", std::to_string(run.background_cpu_ns));
  // This process's writer (a recycled run's earlier processes wrote their own).
  meta.emplace_back("writer.period_ms", std::to_string(m_options.writer.period_ms));
  meta.emplace_back("writer.ticks", std::to_string(writer.ticks));
  meta.emplace_back("writer.wakes", std::to_string(writer.wakes));
  meta.emplace_back("writer.full_waits", std::to_string(writer.full_waits));
  meta.emplace_back("writer.full_wait_ns", std::to_string(writer.full_wait_ns));
  std::string failures = m_earlier_failures;
  {
    std::lock_guard lock(m_failure_mutex);
    for (const auto& failure : m_failures)
      if (failures.find(failure) == std::string::npos)
        failures.append(failures.empty() ? "" : "\n").append(failure);
  }
  meta.emplace_back("failures", failures);
}

}  // namespace nrmlab::telemetry
