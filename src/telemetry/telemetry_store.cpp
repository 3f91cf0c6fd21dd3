#include "telemetry/telemetry_store.hpp"

#include <time.h>
#include <unistd.h>

#include <variant>

#include "telemetry/columns.hpp"
#include "telemetry/probes.hpp"
#include "util/error.hpp"

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

}  // namespace

TelemetryStore::TelemetryStore(const std::filesystem::path& path) : m_db(path) {
  m_db.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
  m_db.execute(schema_sql());
}

void TelemetryStore::write(const Batch& batch) {
  m_db.execute("BEGIN");
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

pid_t BatchWriter::tid() const {
  pid_t tid = 0;
  while ((tid = m_tid.load()) == 0)
    std::this_thread::yield();
  return tid;
}

void BatchWriter::run() {
  m_tid.store(::gettid());
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
