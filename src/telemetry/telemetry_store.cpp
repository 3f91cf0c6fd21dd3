#include "telemetry/telemetry_store.hpp"

#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <variant>

#include "telemetry/columns.hpp"
#include "telemetry/probes.hpp"
#include "util/error.hpp"
#include "util/parse.hpp"

namespace nrmlab::telemetry {
namespace {

void bind_value(sqlite::Statement& statement, int index, const Value& value) {
  // An absent value is left unbound: Statement::reset clears the bindings to NULL.
  if (const auto* integer = std::get_if<std::int64_t>(&value))
    statement.bind(index, *integer);
  else if (const auto* real = std::get_if<double>(&value))
    statement.bind(index, *real);
  else if (const auto* text = std::get_if<std::string_view>(&value))
    statement.bind(index, *text);
}

// Inserts `rows` into their table, binding every registered column by position.
template <class Row>
void insert_rows(sqlite::Connection& db, const std::vector<Row>& rows) {
  if (rows.empty()) return;
  const Table<Row>& table = table_of<Row>();
  sqlite::Statement insert(db, insert_sql(table.spec));
  for (const Row& row : rows) {
    int index = 0;
    for (const Column<Row>& column : table.columns)
      bind_value(insert, ++index, column.read(row));
    insert.run();
  }
}

// The CPU a thread of this process last ran on (/proc/self/task/TID/stat, field 39); -1
// when unreadable. Read by the writer once per tick, never on the engine's path.
int thread_last_cpu(pid_t tid) {
  std::ifstream file("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string text;
  std::getline(file, text);
  const auto close = text.rfind(')');  // the name may hold spaces and parentheses
  if (close == std::string::npos) return -1;
  std::istringstream fields(text.substr(close + 1));
  std::string field;
  for (int index = 3; index <= 39 && fields >> field; ++index)
    if (index == 39) return parse_number<int>(field).value_or(-1);
  return -1;
}

}  // namespace

TelemetryStore::TelemetryStore(const std::filesystem::path& path) : m_db(path) {
  m_db.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
  m_db.execute(schema_sql());
}

void TelemetryStore::write(const Batch& batch) {
  m_db.execute("BEGIN");
  insert_batch(batch);
  m_db.execute("COMMIT");
}

void TelemetryStore::write(const std::vector<Batch>& batches) {
  m_db.execute("BEGIN");
  for (const Batch& batch : batches)
    insert_batch(batch);
  m_db.execute("COMMIT");
}

void TelemetryStore::insert_batch(const Batch& batch) {
  insert_rows(m_db, batch.conditions);
  insert_rows(m_db, batch.steps);
  insert_rows(m_db, batch.memory);
  insert_rows(m_db, batch.samples);
  insert_rows(m_db, batch.system);
  insert_rows(m_db, batch.sensors);
  insert_rows(m_db, batch.files);
  insert_rows(m_db, batch.work);
  insert_rows(m_db, batch.process);
  insert_rows(m_db, batch.profile_frames);
  insert_rows(m_db, batch.profile_stacks);
  insert_rows(m_db, batch.profile_counts);
  insert_rows(m_db, batch.meta);
}

bool schedule_as_batch() {
  sched_param param{};
  param.sched_priority = 0;
  return sched_setscheduler(0, SCHED_BATCH, &param) == 0;
}

BatchWriter::BatchWriter(const std::filesystem::path& path, BatchWriterOptions options)
    : m_path(path), m_options(std::move(options)), m_queue(m_options.capacity) {
  if (m_options.period_ms < 1) throw Error("the telemetry writer's period must be at least 1 ms");
  // Open (and create the schema) on the caller's thread, so an unwritable path is reported
  // at once rather than from the background.
  { TelemetryStore probe(m_path); }
  m_thread = std::thread([this] { run(); });
}

BatchWriter::~BatchWriter() {
  close();
}

void BatchWriter::submit(Batch&& batch) {
  if (batch.empty() || m_failed.load() || m_closed.load()) return;
  if (!m_queue.try_push(batch)) {
    wait_for_room(batch);
    return;
  }
  if (m_options.wake_every_submit) wake_writer();
}

// The only place a producer sleeps or wakes anyone: the queue is full, so the writer is
// behind (a slow disk, or starved of CPU) and must run now.
void BatchWriter::wait_for_room(Batch& batch) {
  const std::int64_t start = monotonic_ns();
  ++m_full_waits;
  std::unique_lock lock(m_mutex);
  while (!m_failed.load() && !m_closed.load() && !m_queue.try_push(batch)) {
    m_urgent = true;
    count_wake();
    m_wake.notify_one();
    // The writer notifies after every drain; the timeout only bounds a missed one.
    m_room.wait_for(lock, std::chrono::milliseconds(m_options.period_ms));
  }
  m_full_wait_ns += monotonic_ns() - start;
}

void BatchWriter::wake_writer() {
  {
    std::lock_guard lock(m_mutex);
    m_urgent = true;
  }
  count_wake();
  m_wake.notify_one();
}

void BatchWriter::count_wake() {
  ++m_wakes;
  if (m_options.on_wake) m_options.on_wake();
}

void BatchWriter::close() {
  {
    std::lock_guard lock(m_mutex);
    m_closing = true;
    m_closed.store(true);
  }
  m_wake.notify_one();
  m_room.notify_all();
  if (m_thread.joinable()) m_thread.join();
}

std::optional<std::string> BatchWriter::error() const {
  std::lock_guard lock(m_mutex);
  return m_error;
}

std::int64_t BatchWriter::cpu_ns() const {
  return m_cpu_ns.load();
}

pid_t BatchWriter::tid() const {
  pid_t tid = 0;
  while ((tid = m_tid.load()) == 0)
    std::this_thread::yield();
  return tid;
}

BatchWriterStats BatchWriter::stats() const {
  return {m_ticks.load(),      m_batches.load(),      m_wakes.load(),
          m_full_waits.load(), m_full_wait_ns.load(), m_shared_cpu_ns.load()};
}

void BatchWriter::run() {
  m_tid.store(::gettid());
  // The design before issue 21 woke the writer as an ordinary thread.
  if (!m_options.wake_every_submit) schedule_as_batch();
  std::optional<TelemetryStore> store;
  const auto period = std::chrono::milliseconds(m_options.period_ms);
  for (;;) {
    m_cpu_ns.store(thread_cpu_ns());
    bool closing = false;
    {
      std::unique_lock lock(m_mutex);
      m_wake.wait_for(lock, period, [&] { return m_urgent || m_closing; });
      m_urgent = false;
      closing = m_closing;
    }
    ++m_ticks;
    // Producers submit before close(): once it is seen, one more drain takes everything.
    if (!write_queued(store) || closing) break;
  }
  m_cpu_ns.store(thread_cpu_ns());
}

bool BatchWriter::write_queued(std::optional<TelemetryStore>& store) {
  std::vector<Batch> batches;
  while (auto batch = m_queue.try_pop())
    batches.push_back(std::move(*batch));
  if (batches.empty()) return true;
  {
    // Taken between the pops and the notify, so a producer about to wait for room either
    // sees the room or is already waiting when the notify comes.
    std::lock_guard lock(m_mutex);
  }
  m_room.notify_all();
  const pid_t engine = m_engine_tid.load();
  const bool shared = engine > 0 && thread_last_cpu(engine) == sched_getcpu();
  const std::int64_t cpu_before = thread_cpu_ns();
  try {
    if (!store) store.emplace(m_path);
    store->write(batches);
  } catch (const std::exception& error) {
    {
      std::lock_guard lock(m_mutex);
      m_error = error.what();
      m_failed.store(true);
    }
    m_room.notify_all();
    return false;
  }
  m_batches += static_cast<std::int64_t>(batches.size());
  if (shared) m_shared_cpu_ns += thread_cpu_ns() - cpu_before;
  return true;
}

}  // namespace nrmlab::telemetry
