#include "telemetry/telemetry_store.hpp"

#include <time.h>

#include "telemetry/probes.hpp"
#include "util/error.hpp"

namespace nrmlab::telemetry {
namespace {

constexpr const char* k_schema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS conditions(condition INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE IF NOT EXISTS steps(
  condition INTEGER, step INTEGER, t_ns INTEGER, wall_ns INTEGER, cpu_ns INTEGER,
  usage_steps INTEGER, user_ns INTEGER, system_ns INTEGER, voluntary_switches INTEGER, involuntary_switches INTEGER,
  minor_faults INTEGER, major_faults INTEGER, sampling_ns INTEGER, window_ns INTEGER,
  database_ns INTEGER, recorder_ns INTEGER, compute_ns INTEGER, timer_reads INTEGER,
  agents INTEGER, evolve_calls INTEGER, metric_samples INTEGER, resonance_pairs INTEGER,
  resonant_pairs INTEGER, clusters_found INTEGER, pattern_count INTEGER, spawns INTEGER,
  deaths INTEGER, db_transactions INTEGER, db_rows INTEGER,
  PRIMARY KEY(condition, step));
CREATE TABLE IF NOT EXISTS memory(
  condition INTEGER, step INTEGER, t_ns INTEGER, rss_bytes INTEGER, allocated INTEGER, active INTEGER, resident INTEGER, mapped INTEGER, retained INTEGER,
  metadata INTEGER, free_bytes INTEGER, mmapped INTEGER, top_pad INTEGER,
  rss_per_allocated REAL, resident_per_active REAL, active_per_allocated REAL,
  alloc_probe_ns INTEGER, PRIMARY KEY(condition, step));
CREATE TABLE IF NOT EXISTS metric_inputs(
  condition INTEGER, step INTEGER, call INTEGER, timestamp REAL, cpu_percent REAL,
  memory_percent REAL, disk_percent REAL, memory_used_mb REAL, disk_used_gb REAL,
  network_sent_mb REAL, network_recv_mb REAL, process_count INTEGER,
  PRIMARY KEY(condition, step, call));
CREATE TABLE IF NOT EXISTS system(
  t_ns INTEGER, unix_time REAL, condition INTEGER, step INTEGER, cpu_percent REAL,
  memory_percent REAL, load1 REAL, load5 REAL, load15 REAL, procs_running INTEGER,
  other_cpu_ns INTEGER, io_read_bytes INTEGER, io_write_bytes INTEGER, io_syscr INTEGER,
  io_syscw INTEGER, io_rchar INTEGER, io_wchar INTEGER, pss_bytes INTEGER);
CREATE TABLE IF NOT EXISTS sensors(
  t_ns INTEGER, condition INTEGER, step INTEGER, kind TEXT, name TEXT, value REAL);
CREATE TABLE IF NOT EXISTS files(
  t_ns INTEGER, condition INTEGER, step INTEGER, name TEXT, bytes INTEGER);
CREATE TABLE IF NOT EXISTS step_work(
  condition INTEGER, step INTEGER, name TEXT, value REAL, PRIMARY KEY(condition, step, name));
CREATE TABLE IF NOT EXISTS process(
  t_ns INTEGER, condition INTEGER, step INTEGER, processes INTEGER, threads INTEGER,
  user_ns INTEGER, system_ns INTEGER, voluntary_switches INTEGER, involuntary_switches INTEGER,
  minor_faults INTEGER, major_faults INTEGER, rss_bytes INTEGER, pss_bytes INTEGER,
  read_bytes INTEGER, write_bytes INTEGER, syscr INTEGER, syscw INTEGER, rchar INTEGER,
  wchar INTEGER, open_fds INTEGER);
)sql";

using sqlite::Statement;

void bind_optional(Statement& statement, int index, const std::optional<std::int64_t>& value) {
  if (value) statement.bind(index, *value);
}

void bind_optional(Statement& statement, int index, const std::optional<double>& value) {
  if (value) statement.bind(index, *value);
}

std::optional<double> ratio(const std::optional<std::int64_t>& numerator,
                            const std::optional<std::int64_t>& denominator) {
  if (!numerator || !denominator || *denominator <= 0) return std::nullopt;
  return static_cast<double>(*numerator) / static_cast<double>(*denominator);
}

std::int64_t i64(std::uint64_t value) {
  return static_cast<std::int64_t>(value);
}

}  // namespace

TelemetryStore::TelemetryStore(const std::filesystem::path& path) : m_db(path) {
  m_db.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
  m_db.execute(k_schema);
}

void TelemetryStore::write(const Batch& batch) {
  m_db.execute("BEGIN");
  if (!batch.conditions.empty()) {
    Statement insert(m_db, "INSERT OR REPLACE INTO conditions VALUES (?,?)");
    for (const auto& [index, name] : batch.conditions)
      insert.bind(1, std::int64_t{index}).bind(2, name).run();
  }
  if (!batch.steps.empty()) {
    Statement insert(m_db,
                     "INSERT OR REPLACE INTO steps VALUES "
                     "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    for (const StepRow& r : batch.steps) {
      const auto& c = r.counters;
      const auto& s = r.sections;
      insert.bind(1, std::int64_t{r.condition}).bind(2, r.step).bind(3, r.t_ns).bind(4, r.wall_ns);
      insert.bind(5, r.cpu_ns).bind(6, r.usage_steps);
      bind_optional(insert, 7, r.user_ns);
      bind_optional(insert, 8, r.system_ns);
      bind_optional(insert, 9, r.voluntary_switches);
      bind_optional(insert, 10, r.involuntary_switches);
      bind_optional(insert, 11, r.minor_faults);
      bind_optional(insert, 12, r.major_faults);
      insert.bind(13, s.sampling_ns).bind(14, s.window_ns).bind(15, s.database_ns);
      insert.bind(16, r.recorder_ns).bind(17, r.compute_ns()).bind(18, i64(s.timer_reads));
      insert.bind(19, i64(c.agents_alive)).bind(20, i64(c.evolve_calls));
      insert.bind(21, i64(c.metric_samples)).bind(22, i64(c.resonance_pairs));
      insert.bind(23, i64(c.resonant_pairs)).bind(24, i64(c.clusters_found));
      insert.bind(25, i64(c.pattern_count)).bind(26, i64(c.spawns)).bind(27, i64(c.deaths));
      insert.bind(28, i64(c.db_transactions)).bind(29, i64(c.db_rows));
      insert.run();
    }
  }
  if (!batch.memory.empty()) {
    Statement insert(m_db,
                     "INSERT OR REPLACE INTO memory VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    for (const MemoryRow& r : batch.memory) {
      const AllocatorStats& a = r.allocator;
      insert.bind(1, std::int64_t{r.condition}).bind(2, r.step).bind(3, r.t_ns);
      bind_optional(insert, 4, r.rss_bytes);
      bind_optional(insert, 5, a.allocated);
      bind_optional(insert, 6, a.active);
      bind_optional(insert, 7, a.resident);
      bind_optional(insert, 8, a.mapped);
      bind_optional(insert, 9, a.retained);
      bind_optional(insert, 10, a.metadata);
      bind_optional(insert, 11, a.free_bytes);
      bind_optional(insert, 12, a.mmapped);
      bind_optional(insert, 13, a.top_pad);
      bind_optional(insert, 14, ratio(r.rss_bytes, a.allocated));
      bind_optional(insert, 15, ratio(a.resident, a.active));
      bind_optional(insert, 16, ratio(a.active, a.allocated));
      bind_optional(insert, 17, r.alloc_probe_ns);
      insert.run();
    }
  }
  if (!batch.samples.empty()) {
    Statement insert(m_db, "INSERT OR REPLACE INTO metric_inputs VALUES (?,?,?,?,?,?,?,?,?,?,?,?)");
    for (const SampleRow& r : batch.samples) {
      const auto& s = r.sample;
      insert.bind(1, std::int64_t{r.key.condition}).bind(2, r.key.step).bind(3, r.key.call);
      insert.bind(4, s.timestamp).bind(5, s.cpu_percent).bind(6, s.memory_percent);
      insert.bind(7, s.disk_percent).bind(8, s.memory_used_mb).bind(9, s.disk_used_gb);
      insert.bind(10, s.network_sent_mb).bind(11, s.network_recv_mb).bind(12, s.process_count);
      insert.run();
    }
  }
  if (!batch.system.empty()) {
    Statement insert(m_db, "INSERT INTO system VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    for (const SystemRow& r : batch.system) {
      const SystemSample& s = r.sample;
      insert.bind(1, r.t_ns)
          .bind(2, r.unix_time)
          .bind(3, std::int64_t{r.condition})
          .bind(4, r.step);
      bind_optional(insert, 5, s.cpu_percent);
      bind_optional(insert, 6, s.memory_percent);
      bind_optional(insert, 7, s.load1);
      bind_optional(insert, 8, s.load5);
      bind_optional(insert, 9, s.load15);
      bind_optional(insert, 10, s.procs_running);
      bind_optional(insert, 11, s.other_cpu_ns);
      bind_optional(insert, 12, s.io_read_bytes);
      bind_optional(insert, 13, s.io_write_bytes);
      bind_optional(insert, 14, s.io_syscr);
      bind_optional(insert, 15, s.io_syscw);
      bind_optional(insert, 16, s.io_rchar);
      bind_optional(insert, 17, s.io_wchar);
      bind_optional(insert, 18, r.pss_bytes);
      insert.run();
    }
  }
  if (!batch.sensors.empty()) {
    Statement insert(m_db, "INSERT INTO sensors VALUES (?,?,?,?,?,?)");
    for (const SensorRow& r : batch.sensors) {
      insert.bind(1, r.t_ns).bind(2, std::int64_t{r.condition}).bind(3, r.step);
      insert.bind(4, r.reading.kind).bind(5, r.reading.name).bind(6, r.reading.value).run();
    }
  }
  if (!batch.files.empty()) {
    Statement insert(m_db, "INSERT INTO files VALUES (?,?,?,?,?)");
    for (const FileRow& r : batch.files) {
      insert.bind(1, r.t_ns).bind(2, std::int64_t{r.condition}).bind(3, r.step);
      insert.bind(4, r.file.name).bind(5, r.file.bytes).run();
    }
  }
  if (!batch.work.empty()) {
    Statement insert(m_db, "INSERT OR REPLACE INTO step_work VALUES (?,?,?,?)");
    for (const WorkRow& r : batch.work)
      insert.bind(1, std::int64_t{r.condition})
          .bind(2, r.step)
          .bind(3, r.name)
          .bind(4, r.value)
          .run();
  }
  if (!batch.process.empty()) {
    Statement insert(m_db, "INSERT INTO process VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    for (const ProcessRow& r : batch.process) {
      const ProcessSample& s = r.sample;
      insert.bind(1, r.t_ns).bind(2, std::int64_t{r.condition}).bind(3, r.step);
      insert.bind(4, std::int64_t{s.processes}).bind(5, s.threads);
      insert.bind(6, s.user_ns).bind(7, s.system_ns);
      bind_optional(insert, 8, s.voluntary_switches);
      bind_optional(insert, 9, s.involuntary_switches);
      insert.bind(10, s.minor_faults).bind(11, s.major_faults);
      bind_optional(insert, 12, s.rss_bytes);
      bind_optional(insert, 13, s.pss_bytes);
      bind_optional(insert, 14, s.read_bytes);
      bind_optional(insert, 15, s.write_bytes);
      bind_optional(insert, 16, s.syscr);
      bind_optional(insert, 17, s.syscw);
      bind_optional(insert, 18, s.rchar);
      bind_optional(insert, 19, s.wchar);
      bind_optional(insert, 20, s.open_fds);
      insert.run();
    }
  }
  if (!batch.meta.empty()) {
    Statement insert(m_db, "INSERT OR REPLACE INTO meta VALUES (?,?)");
    for (const auto& [key, value] : batch.meta)
      insert.bind(1, key).bind(2, value).run();
  }
  m_db.execute("COMMIT");
}

BatchWriter::BatchWriter(const std::filesystem::path& path) : m_path(path) {
  // Open (and create the schema) on the caller's thread, so an unwritable path is reported
  // at once rather than from the background.
  { TelemetryStore probe(m_path); }
  m_thread = std::thread([this] { run(); });
}

BatchWriter::~BatchWriter() {
  close();
}

void BatchWriter::submit(Batch&& batch) {
  if (batch.empty()) return;
  {
    std::unique_lock lock(m_mutex);
    m_drained.wait(lock, [&] { return m_queue.size() < k_max_queued || m_error || m_closing; });
    if (m_error || m_closing) return;
    m_queue.push_back(std::move(batch));
  }
  m_wake.notify_one();
}

void BatchWriter::close() {
  {
    std::lock_guard lock(m_mutex);
    m_closing = true;
  }
  m_wake.notify_one();
  if (m_thread.joinable()) m_thread.join();
}

std::optional<std::string> BatchWriter::error() const {
  std::lock_guard lock(m_mutex);
  return m_error;
}

std::int64_t BatchWriter::cpu_ns() const {
  return m_cpu_ns.load();
}

void BatchWriter::run() {
  std::optional<TelemetryStore> store;
  for (;;) {
    m_cpu_ns.store(thread_cpu_ns());
    Batch batch;
    {
      std::unique_lock lock(m_mutex);
      m_wake.wait(lock, [&] { return m_closing || !m_queue.empty(); });
      if (m_queue.empty()) return;  // closing, and everything is written
      batch = std::move(m_queue.front());
      m_queue.pop_front();
    }
    m_drained.notify_all();
    try {
      if (!store) store.emplace(m_path);
      store->write(batch);
    } catch (const std::exception& error) {
      std::lock_guard lock(m_mutex);
      m_error = error.what();
      m_queue.clear();
      m_drained.notify_all();
      return;
    }
  }
}

}  // namespace nrmlab::telemetry
