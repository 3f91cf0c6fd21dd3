// H3, I/O accumulation: every step writes the same number of events to a SQLite store,
// each in its own transaction, and each write first checks for a duplicate with a lookup
// on a column that has no index -- so the same write costs more as the store grows.
//
// Why a missing index and not a large B-tree: SQLite's indexed insert cost grows with the
// logarithm of the table. Measured on the development VM over 8,000 rows, an insert cost a
// flat 12-13 µs (WAL), 55 µs (rollback journal) and 600 µs (synchronous=FULL, the fsync),
// with no trend. A per-write cost that grows within a run comes from work that scales with
// the store's size, and an unindexed lookup is the common way to get it.
#include <chrono>
#include <random>

#include "util/sqlite.hpp"
#include "validate/workloads_internal.hpp"

namespace nrmlab::validate {
namespace {

constexpr int k_writes_per_step = 16;
constexpr std::size_t k_payload_bytes = 200;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

class Store final : public Workload {
 public:
  explicit Store(const WorkloadOptions& options)
      : m_path(options.dir / "store.db"), m_rng(options.seed), m_payload(k_payload_bytes, 'x') {}

  void prepare() override {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"})
      std::filesystem::remove(m_path.string() + suffix);
    m_db.emplace(m_path, sqlite::Connection::Threading::confined);
    // Commits reach the operating system at once; fsync waits for checkpoints. (An fsync
    // per commit costs the same at any size, so it would only dilute the growth.)
    m_db->execute(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
        "CREATE TABLE events(id INTEGER PRIMARY KEY, key INTEGER NOT NULL, payload BLOB)");
    m_lookup.emplace(*m_db, "SELECT 1 FROM events WHERE key = ?");
    m_insert.emplace(*m_db, "INSERT INTO events(key, payload) VALUES (?, ?)");
  }

  void step(std::int64_t, StepReport& report) override {
    const std::int64_t begin = now_ns();
    for (int w = 0; w < k_writes_per_step; ++w) {
      const auto key = static_cast<std::int64_t>(m_rng() >> 2);
      m_lookup->bind(1, key);
      m_duplicates += m_lookup->step() ? 1 : 0;
      m_lookup->reset();
      for (char& c : m_payload)
        c = static_cast<char>('a' + m_rng() % 26);
      m_insert->bind(1, key).bind(2, std::string_view(m_payload));
      m_insert->run();  // autocommit: one transaction per write
    }
    report.sections.database_ns = now_ns() - begin;
    report.counters.db_transactions = k_writes_per_step;
    report.counters.db_rows = k_writes_per_step;
  }

  double checksum() const override { return static_cast<double>(m_duplicates); }

 private:
  std::filesystem::path m_path;
  std::mt19937_64 m_rng;
  std::string m_payload;
  std::optional<sqlite::Connection> m_db;
  std::optional<sqlite::Statement> m_lookup, m_insert;
  std::int64_t m_duplicates = 0;
};

}  // namespace

std::unique_ptr<Workload> make_store(const WorkloadOptions& options) {
  return std::make_unique<Store>(options);
}

}  // namespace nrmlab::validate
