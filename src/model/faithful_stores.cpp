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

}  // namespace

// One database file in one persistence mode, with one prepared insert per table.
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

FaithfulStores::FaithfulStores(const std::filesystem::path& dir, Persistence mode) {
  if (mode == Persistence::off)
    throw Error("FaithfulStores needs a persistence mode other than off");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    throw Error(fmt::format("cannot create database directory {}: {}", dir.string(), ec.message()));
  m_metrics =
      std::make_unique<TableStore>(metrics_path(dir), mode, k_rollback_pragmas, k_metrics_schema,
                                   std::vector<std::string_view>{k_metrics_insert});
  m_bridge = std::make_unique<TableStore>(
      bridge_path(dir), mode, k_wal_pragmas, k_bridge_schema,
      std::vector<std::string_view>{k_phase_insert, k_resonance_insert});
}

FaithfulStores::~FaithfulStores() = default;

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

void FaithfulStores::write_metric(const MetricSample& s) {
  timed([&] {
    m_metrics->write(0, [&](sqlite::Statement& insert) {
      insert.bind(1, s.timestamp).bind(2, s.cpu_percent).bind(3, s.memory_percent);
      insert.bind(4, s.memory_used_mb).bind(5, s.disk_percent).bind(6, s.disk_used_gb);
      insert.bind(7, s.network_sent_mb).bind(8, s.network_recv_mb).bind(9, s.process_count);
    });
  });
}

void FaithfulStores::write_phase(const PhaseState& phase, const MetricSample& s) {
  timed([&] {
    m_bridge->write(0, [&](sqlite::Statement& insert) {
      insert.bind(1, wall_clock_seconds()).bind(2, phase.p).bind(3, phase.q).bind(4, phase.r);
      insert.bind(5, phase.magnitude).bind(6, s.cpu_percent).bind(7, s.memory_percent);
      insert.bind(8, s.disk_percent).bind(9, std::string_view("reality_to_phase"));
    });
  });
}

void FaithfulStores::write_resonance(std::string_view first_id, std::string_view second_id,
                                     const Resonance& resonance, bool resonant) {
  timed([&] {
    m_bridge->write(1, [&](sqlite::Statement& insert) {
      insert.bind(1, wall_clock_seconds()).bind(2, first_id).bind(3, second_id);
      insert.bind(4, resonance.similarity).bind(5, resonance.alignment).bind(6, resonance.ratio);
      insert.bind(7, std::int64_t{resonant ? 1 : 0});
    });
  });
}

void FaithfulStores::end_step() {
  timed([&] {
    m_metrics->end_step();
    m_bridge->end_step();
  });
}

std::uint64_t FaithfulStores::transactions() const {
  return m_metrics->transactions() + m_bridge->transactions();
}

std::uint64_t FaithfulStores::rows() const {
  return m_metrics->rows() + m_bridge->rows();
}

std::filesystem::path FaithfulStores::metrics_path(const std::filesystem::path& dir) {
  return dir / "metrics.db";
}

std::filesystem::path FaithfulStores::bridge_path(const std::filesystem::path& dir) {
  return dir / "bridge.db";
}

}  // namespace nrmlab::model
