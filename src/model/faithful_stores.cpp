#include "model/faithful_stores.hpp"

#include <fmt/format.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "model/metric_source.hpp"
#include "util/error.hpp"
#include "util/sqlite.hpp"

namespace nrmlab::model {
namespace {

constexpr std::string_view k_metrics_schema =
    "CREATE TABLE IF NOT EXISTS system_metrics(id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "timestamp REAL, cpu_percent REAL, memory_percent REAL, memory_used_mb REAL, "
    "disk_percent REAL, disk_used_gb REAL, network_sent_mb REAL, network_recv_mb REAL, "
    "process_count INTEGER);";
constexpr std::string_view k_metrics_insert =
    "INSERT INTO system_metrics(timestamp, cpu_percent, memory_percent, memory_used_mb, "
    "disk_percent, disk_used_gb, network_sent_mb, network_recv_mb, process_count) "
    "VALUES (?,?,?,?,?,?,?,?,?)";

constexpr std::string_view k_bridge_schema =
    "CREATE TABLE IF NOT EXISTS phase_transformations(id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "timestamp REAL, pi_phase REAL, e_phase REAL, phi_phase REAL, magnitude REAL, "
    "reality_cpu REAL, reality_memory REAL, reality_disk REAL, transformation_type TEXT);"
    "CREATE TABLE IF NOT EXISTS resonance_events(id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "timestamp REAL, state1_id TEXT, state2_id TEXT, similarity REAL, phase_alignment REAL, "
    "magnitude_ratio REAL, is_resonant INTEGER);"
    "CREATE INDEX IF NOT EXISTS idx_phase_transformations_timestamp "
    "ON phase_transformations(timestamp);"
    "CREATE INDEX IF NOT EXISTS idx_resonance_events_timestamp ON resonance_events(timestamp);";
constexpr std::string_view k_phase_insert =
    "INSERT INTO phase_transformations(timestamp, pi_phase, e_phase, phi_phase, magnitude, "
    "reality_cpu, reality_memory, reality_disk, transformation_type) VALUES (?,?,?,?,?,?,?,?,?)";
constexpr std::string_view k_resonance_insert =
    "INSERT INTO resonance_events(timestamp, state1_id, state2_id, similarity, "
    "phase_alignment, magnitude_ratio, is_resonant) VALUES (?,?,?,?,?,?,?)";

// The original's connection settings: metrics.db in the default rollback journal,
// bridge.db switched to WAL on every connection; synchronous FULL for both.
constexpr std::string_view k_rollback_pragmas = "PRAGMA synchronous=FULL;";
constexpr std::string_view k_wal_pragmas = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;";

// Transaction-per-step (the clean preset's mode) promises a consistent file at every step's
// end, not that each step survives a power cut. bridge.db: synchronous=NORMAL keeps that in
// WAL and syncs the log at checkpoints, not at every commit. metrics.db keeps the original's
// rollback journal (the journal mode stays in the file, and other modes may append to it
// later), where NORMAL would still sync two or three times per commit -- a step's one row
// then cost milliseconds of waiting -- so it does not sync: the journal still rolls back a
// step interrupted by a crash of nrmlab; only an operating-system crash mid-commit could
// leave the file damaged.
constexpr std::string_view k_rollback_step_pragmas = "PRAGMA synchronous=OFF;";
constexpr std::string_view k_wal_step_pragmas =
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;";

// Rows per multi-row INSERT: beyond a few dozen, SQLite's per-statement work (the
// AUTOINCREMENT bookkeeping, opening the table and index cursors) no longer shows.
constexpr std::size_t k_batch_rows = 128;

constexpr std::string_view k_transformation_type = "reality_to_phase";

}  // namespace

// Transaction-per-step's batches. A named namespace, not the anonymous one: FaithfulStores
// holds these types (through StepStores), and a class with fields of internal-linkage types
// draws -Wsubobject-linkage in a unity build.
namespace step_batches {

// The first part of an insert, up to VALUES, and the number of values a row has.
struct InsertShape {
  std::string_view head;
  int columns;
};
constexpr InsertShape k_metric_shape = {
    "INSERT INTO system_metrics(timestamp, cpu_percent, memory_percent, memory_used_mb, "
    "disk_percent, disk_used_gb, network_sent_mb, network_recv_mb, process_count) VALUES ",
    9};
constexpr InsertShape k_phase_shape = {
    "INSERT INTO phase_transformations(timestamp, pi_phase, e_phase, phi_phase, magnitude, "
    "reality_cpu, reality_memory, reality_disk, transformation_type) VALUES ",
    9};
constexpr InsertShape k_resonance_shape = {
    "INSERT INTO resonance_events(timestamp, state1_id, state2_id, similarity, "
    "phase_alignment, magnitude_ratio, is_resonant) VALUES ",
    7};

// "head (?,?),(?,?)" for `rows` rows.
std::string multi_row_insert(const InsertShape& shape, std::size_t rows) {
  std::string tuple = "(?";
  for (int c = 1; c < shape.columns; ++c)
    tuple += ",?";
  tuple += ')';
  std::string sql(shape.head);
  for (std::size_t r = 0; r < rows; ++r) {
    if (r > 0) sql += ',';
    sql += tuple;
  }
  return sql;
}

// One buffered row of each table, and how it binds from parameter `first` on. Texts live in
// the batch's arena (`text`) until the batch is written.
struct MetricRow {
  MetricSample sample;
};
struct PhaseRow {
  double timestamp;
  PhaseState phase;
  double cpu, memory, disk;
};
struct ResonanceRow {
  double timestamp;
  std::uint32_t first_id, first_size, second_id, second_size;  // in the arena
  Resonance scores;
  bool resonant;
};

void bind_row(sqlite::Statement& insert, int first, const MetricRow& row, const std::string&) {
  const MetricSample& s = row.sample;
  insert.bind(first, s.timestamp).bind(first + 1, s.cpu_percent);
  insert.bind(first + 2, s.memory_percent).bind(first + 3, s.memory_used_mb);
  insert.bind(first + 4, s.disk_percent).bind(first + 5, s.disk_used_gb);
  insert.bind(first + 6, s.network_sent_mb).bind(first + 7, s.network_recv_mb);
  insert.bind(first + 8, s.process_count);
}

void bind_row(sqlite::Statement& insert, int first, const PhaseRow& row, const std::string&) {
  insert.bind(first, row.timestamp).bind(first + 1, row.phase.p).bind(first + 2, row.phase.q);
  insert.bind(first + 3, row.phase.r).bind(first + 4, row.phase.magnitude);
  insert.bind(first + 5, row.cpu).bind(first + 6, row.memory).bind(first + 7, row.disk);
  insert.bind_borrowed(first + 8, k_transformation_type);
}

void bind_row(sqlite::Statement& insert, int first, const ResonanceRow& row,
              const std::string& text) {
  insert.bind(first, row.timestamp);
  insert.bind_borrowed(first + 1, std::string_view(text).substr(row.first_id, row.first_size));
  insert.bind_borrowed(first + 2, std::string_view(text).substr(row.second_id, row.second_size));
  insert.bind(first + 3, row.scores.similarity).bind(first + 4, row.scores.alignment);
  insert.bind(first + 5, row.scores.ratio).bind(first + 6, std::int64_t{row.resonant ? 1 : 0});
}

// One table's rows of the current transaction, written k_batch_rows at a time by one
// multi-row INSERT, the rest at the step's end by inserts of 64, 32, ... rows: the same rows
// in the same order (hence the same AUTOINCREMENT ids) as one insert per row.
template <typename Row>
class RowBatch {
 public:
  using RowType = Row;

  RowBatch(sqlite::Connection& connection, InsertShape shape)
      : m_connection(connection), m_shape(shape) {
    m_rows.reserve(k_batch_rows);
  }

  // Appends `text` to the arena; returns where it starts there.
  std::uint32_t keep_text(std::string_view text) {
    const auto at = static_cast<std::uint32_t>(m_text.size());
    m_text.append(text);
    return at;
  }
  // Buffers a row; true when the batch is full and must be written before the next.
  bool add(const Row& row) {
    m_rows.push_back(row);
    return m_rows.size() == k_batch_rows;
  }

  void flush() {
    std::size_t done = 0;
    while (done < m_rows.size()) {
      std::size_t size = k_batch_rows;
      while (size > m_rows.size() - done)
        size /= 2;
      sqlite::Statement& insert = statement_for(size);
      for (std::size_t r = 0; r < size; ++r)
        bind_row(insert, static_cast<int>(r) * m_shape.columns + 1, m_rows[done + r], m_text);
      insert.run_keeping_bindings();
      done += size;
    }
    m_rows.clear();
    m_text.clear();
  }

 private:
  // The statement inserting `size` rows (a power of two up to k_batch_rows), prepared once.
  sqlite::Statement& statement_for(std::size_t size) {
    std::size_t slot = 0;
    while ((std::size_t{1} << slot) < size)
      ++slot;
    if (m_statements.size() <= slot) m_statements.resize(slot + 1);
    if (!m_statements[slot])
      m_statements[slot].emplace(m_connection, multi_row_insert(m_shape, size));
    return *m_statements[slot];
  }

  sqlite::Connection& m_connection;
  InsertShape m_shape;
  std::vector<Row> m_rows;
  std::string m_text;
  std::vector<std::optional<sqlite::Statement>> m_statements;
};

}  // namespace step_batches

// One database written one transaction per step: the transaction begins when the step's
// first batch is written and commits once the rest are. Rows still buffered when the
// stores close (an interrupted step's) are dropped, and the open transaction rolls back.
class StepDatabase {
 public:
  StepDatabase(const std::filesystem::path& path, std::string_view pragmas, std::string_view schema)
      : m_connection(path, sqlite::Connection::Threading::confined),
        m_begin(prepared(m_connection, pragmas, schema, "BEGIN")),
        m_commit(m_connection.prepare("COMMIT")) {}

  sqlite::Connection& connection() { return m_connection; }

  void row_added() {
    m_step_has_rows = true;
    ++m_rows;
  }
  template <typename Batch>
  void write(Batch& batch) {
    if (!m_in_transaction) {
      m_begin.run();
      m_in_transaction = true;
    }
    batch.flush();
  }
  // Ends the step: its remaining rows written and committed, if it wrote any.
  template <typename... Batches>
  void commit(Batches&... batches) {
    if (!m_step_has_rows) return;
    (write(batches), ...);
    m_commit.run();
    m_in_transaction = false;
    m_step_has_rows = false;
    ++m_transactions;
  }

  std::uint64_t transactions() const { return m_transactions; }
  std::uint64_t rows() const { return m_rows; }

 private:
  // Sets the connection up before the first statement is prepared (the schema must exist).
  static sqlite::Statement prepared(sqlite::Connection& connection, std::string_view pragmas,
                                    std::string_view schema, std::string_view sql) {
    connection.execute(pragmas);
    connection.execute(schema);
    return connection.prepare(sql);
  }

  sqlite::Connection m_connection;
  sqlite::Statement m_begin;
  sqlite::Statement m_commit;
  bool m_step_has_rows = false;
  bool m_in_transaction = false;
  std::uint64_t m_transactions = 0;
  std::uint64_t m_rows = 0;
};

// Both databases under transaction-per-step. Declaration order is destruction order in
// reverse: the batches' statements go before their connections.
struct StepStores {
  explicit StepStores(const std::filesystem::path& dir)
      : metrics_db(FaithfulStores::metrics_path(dir), k_rollback_step_pragmas, k_metrics_schema),
        bridge_db(FaithfulStores::bridge_path(dir), k_wal_step_pragmas, k_bridge_schema),
        metrics(metrics_db.connection(), step_batches::k_metric_shape),
        phases(bridge_db.connection(), step_batches::k_phase_shape),
        resonances(bridge_db.connection(), step_batches::k_resonance_shape) {}

  StepDatabase metrics_db;
  StepDatabase bridge_db;
  step_batches::RowBatch<step_batches::MetricRow> metrics;
  step_batches::RowBatch<step_batches::PhaseRow> phases;
  step_batches::RowBatch<step_batches::ResonanceRow> resonances;
};

// One database file written a row at a time, with one prepared insert per table: the
// per-write modes, and transaction-per-step's row-by-row reference.
class TableStore {
 public:
  TableStore(std::filesystem::path path, Persistence mode, std::string_view pragmas,
             std::string_view schema, std::vector<std::string_view> inserts)
      : m_path(std::move(path)), m_mode(mode), m_pragmas(pragmas), m_inserts(std::move(inserts)) {
    sqlite::Connection setup(m_path);
    setup.execute(m_pragmas);
    setup.execute(schema);
    if (m_mode == Persistence::connection_per_write) return;
    m_connection.emplace(std::move(setup));
    for (auto sql : m_inserts)
      m_statements.push_back(m_connection->prepare(sql));
  }

  template <typename Bind>
  void write(std::size_t table, Bind&& bind) {
    if (m_mode == Persistence::connection_per_write) {
      sqlite::Connection connection(m_path);
      connection.execute(m_pragmas);
      sqlite::Statement insert = connection.prepare(m_inserts[table]);
      bind(insert);
      insert.run();
      ++m_transactions;
    } else {
      if (m_mode == Persistence::transaction_per_step && !m_in_transaction) {
        m_connection->execute("BEGIN");
        m_in_transaction = true;
      }
      sqlite::Statement& insert = m_statements[table];
      bind(insert);
      insert.run();
      if (m_mode == Persistence::commit_per_write) ++m_transactions;
    }
    ++m_rows;
  }

  void end_step() {
    if (!m_in_transaction) return;
    m_connection->execute("COMMIT");
    m_in_transaction = false;
    ++m_transactions;
  }

  std::uint64_t transactions() const { return m_transactions; }
  std::uint64_t rows() const { return m_rows; }

 private:
  std::filesystem::path m_path;
  Persistence m_mode;
  std::string_view m_pragmas;
  std::vector<std::string_view> m_inserts;
  std::optional<sqlite::Connection> m_connection;
  std::vector<sqlite::Statement> m_statements;
  bool m_in_transaction = false;
  std::uint64_t m_transactions = 0;
  std::uint64_t m_rows = 0;
};

FaithfulStores::FaithfulStores(const std::filesystem::path& dir, Persistence mode,
                               StepWrites writes) {
  if (mode == Persistence::off)
    throw Error("FaithfulStores needs a persistence mode other than off");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    throw Error(fmt::format("cannot create database directory {}: {}", dir.string(), ec.message()));
  if (mode == Persistence::transaction_per_step && writes == StepWrites::batched) {
    m_step_stores = std::make_unique<StepStores>(dir);
    return;
  }
  m_metrics =
      std::make_unique<TableStore>(metrics_path(dir), mode, k_rollback_pragmas, k_metrics_schema,
                                   std::vector<std::string_view>{k_metrics_insert});
  m_bridge = std::make_unique<TableStore>(
      bridge_path(dir), mode, k_wal_pragmas, k_bridge_schema,
      std::vector<std::string_view>{k_phase_insert, k_resonance_insert});
}

FaithfulStores::FaithfulStores(Persistence mode, CountOnly) : m_counted_mode(mode) {
  if (mode == Persistence::off)
    throw Error("FaithfulStores needs a persistence mode other than off");
}

FaithfulStores::~FaithfulStores() = default;

void FaithfulStores::count_row(std::size_t database) {
  ++m_counted_rows;
  if (*m_counted_mode == Persistence::transaction_per_step)
    m_step_wrote[database] = true;
  else
    ++m_counted_transactions;
}

template <typename Write>
void FaithfulStores::timed(Write&& write) {
  if (!m_timing) {
    write();
    return;
  }
  const auto started = std::chrono::steady_clock::now();
  write();
  m_sections.database_ns += (std::chrono::steady_clock::now() - started).count();
  m_sections.timer_reads += 2;
}

// Under transaction-per-step a row is only buffered; the section timing then measures the
// batches' writes and the commit, which are the database's work, and spares two clock
// reads per row.
template <typename Batch>
void FaithfulStores::add_row(StepDatabase& database, Batch& batch,
                             const typename Batch::RowType& row) {
  database.row_added();
  if (batch.add(row)) timed([&] { database.write(batch); });
}

void FaithfulStores::write_metric(const MetricSample& s) {
  if (m_counted_mode) return count_row(0);
  if (m_step_stores) {
    add_row(m_step_stores->metrics_db, m_step_stores->metrics, {s});
    return;
  }
  timed([&] {
    m_metrics->write(0, [&](sqlite::Statement& insert) {
      insert.bind(1, s.timestamp).bind(2, s.cpu_percent).bind(3, s.memory_percent);
      insert.bind(4, s.memory_used_mb).bind(5, s.disk_percent).bind(6, s.disk_used_gb);
      insert.bind(7, s.network_sent_mb).bind(8, s.network_recv_mb).bind(9, s.process_count);
    });
  });
}

void FaithfulStores::write_phase(const PhaseState& phase, const MetricSample& s) {
  if (m_counted_mode) return count_row(1);
  if (m_step_stores) {
    add_row(m_step_stores->bridge_db, m_step_stores->phases,
            {wall_clock_seconds(), phase, s.cpu_percent, s.memory_percent, s.disk_percent});
    return;
  }
  timed([&] {
    m_bridge->write(0, [&](sqlite::Statement& insert) {
      insert.bind(1, wall_clock_seconds()).bind(2, phase.p).bind(3, phase.q).bind(4, phase.r);
      insert.bind(5, phase.magnitude).bind(6, s.cpu_percent).bind(7, s.memory_percent);
      insert.bind(8, s.disk_percent).bind(9, k_transformation_type);
    });
  });
}

void FaithfulStores::write_resonance(std::string_view first_id, std::string_view second_id,
                                     const Resonance& resonance, bool resonant) {
  if (m_counted_mode) return count_row(1);
  if (m_step_stores) {
    step_batches::RowBatch<step_batches::ResonanceRow>& batch = m_step_stores->resonances;
    // Copied: the ids' strings may move before the batch is written (a spawn grows the
    // agents' vector).
    const std::uint32_t first = batch.keep_text(first_id);
    const std::uint32_t second = batch.keep_text(second_id);
    add_row(m_step_stores->bridge_db, batch,
            {wall_clock_seconds(), first, static_cast<std::uint32_t>(first_id.size()), second,
             static_cast<std::uint32_t>(second_id.size()), resonance, resonant});
    return;
  }
  timed([&] {
    m_bridge->write(1, [&](sqlite::Statement& insert) {
      insert.bind(1, wall_clock_seconds()).bind(2, first_id).bind(3, second_id);
      insert.bind(4, resonance.similarity).bind(5, resonance.alignment).bind(6, resonance.ratio);
      insert.bind(7, std::int64_t{resonant ? 1 : 0});
    });
  });
}

void FaithfulStores::end_step() {
  if (m_counted_mode) {
    for (bool& wrote : m_step_wrote) {
      m_counted_transactions += wrote ? 1 : 0;
      wrote = false;
    }
    return;
  }
  timed([&] {
    if (m_step_stores) {
      m_step_stores->metrics_db.commit(m_step_stores->metrics);
      m_step_stores->bridge_db.commit(m_step_stores->phases, m_step_stores->resonances);
      return;
    }
    m_metrics->end_step();
    m_bridge->end_step();
  });
}

std::uint64_t FaithfulStores::transactions() const {
  if (m_counted_mode) return m_counted_transactions;
  if (m_step_stores)
    return m_step_stores->metrics_db.transactions() + m_step_stores->bridge_db.transactions();
  return m_metrics->transactions() + m_bridge->transactions();
}

std::uint64_t FaithfulStores::rows() const {
  if (m_counted_mode) return m_counted_rows;
  if (m_step_stores) return m_step_stores->metrics_db.rows() + m_step_stores->bridge_db.rows();
  return m_metrics->rows() + m_bridge->rows();
}

std::filesystem::path FaithfulStores::metrics_path(const std::filesystem::path& dir) {
  return dir / "metrics.db";
}

std::filesystem::path FaithfulStores::bridge_path(const std::filesystem::path& dir) {
  return dir / "bridge.db";
}

}  // namespace nrmlab::model
