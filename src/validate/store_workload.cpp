// H3, I/O accumulation: every step writes the same number of events to a SQLite store,
// each in its own transaction, and each write first checks for a duplicate with a lookup
// on a column that has no index -- so the same write costs more as the store grows.
//
// Why a missing index and not a large B-tree: SQLite's indexed insert cost grows with the
// logarithm of the table. Measured on the development VM over 8,000 rows, an insert cost a
// flat 12-13 µs (WAL), 55 µs (rollback journal) and 600 µs (synchronous=FULL, the fsync),
// with no trend. A per-write cost that grows within a run comes from work that scales with
// the store's size, and an unindexed lookup is the common way to get it.
//
// Why the store is filled before the first step: started empty, the first steps' writes
// cost almost nothing (no rows to scan), and H3 fits a line through the per-window price
// of the I/O and divides its slope by the line's start. A start near zero, with any bend
// or noise, came out negative, the relative growth was undefined and H3 read "does not
// get dearer" (the CI failure "2 runs H3, 1 run none"; 1 run in 20 on the development VM
// with a core to itself, 1 in 30 with one of its two cores kept busy). From 1,200 rows,
// the 16 lookups a step scan 1,200 to 6,000 rows over 300 steps: the price grows linearly
// about fivefold from a start well above zero (H3 in 90 of 90 runs with one of two cores
// kept busy; relative growth at least 1.09, Mann-Kendall p at most 3e-5 over 40). Why
// not fewer writes, which would be faster: with 8 or 12 a step, a step took about a
// millisecond, and the few preemptions of a busy machine made the preempted steps stand
// out enough for H1's indicator (involuntary switches against step time) in 18 to 23 of 50
// runs, against 3 of 30 with 16.
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>

#include "util/error.hpp"
#include "util/sqlite.hpp"
#include "util/unique_fd.hpp"
#include "validate/workloads_internal.hpp"

namespace nrmlab::validate {
namespace {

constexpr int k_writes_per_step = 16;
constexpr std::size_t k_payload_bytes = 200;
// Rows written (in one transaction, then checkpointed) before the first step.
constexpr int k_prefill_rows = 1200;

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
    // Commits reach the operating system at once and nothing waits for the device: the
    // planted cost is the lookup's. With synchronous=NORMAL each checkpoint waited for an
    // fsync, which on a disk that others keep busy took up to 100 ms; those stalls
    // dominated the per-window least-squares price and hid the growth (1 run in 9 read
    // `none` with one of two cores busy). An fsync costs the same at any size, so it
    // could only dilute the growth.
    // A page cache of 64 MB holds the whole table in every run (--full writes 10,800 rows,
    // past the default 2 MB, where each lookup's cost doubled as pages came from the OS).
    m_db->execute(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA cache_size=-65536;"
        "CREATE TABLE events(id INTEGER PRIMARY KEY, key INTEGER NOT NULL, payload BLOB)");
    m_lookup.emplace(*m_db, "SELECT 1 FROM events WHERE key = ?");
    m_insert.emplace(*m_db, "INSERT INTO events(key, payload) VALUES (?, ?)");
    m_db->execute("BEGIN");
    for (int r = 0; r < k_prefill_rows; ++r)
      insert_event();
    m_db->execute("COMMIT; PRAGMA wal_checkpoint(TRUNCATE)");
  }

  void step(std::int64_t, StepReport& report) override {
    const std::int64_t begin = now_ns();
    for (int w = 0; w < k_writes_per_step; ++w) {
      const auto key = static_cast<std::int64_t>(m_rng() >> 2);
      m_lookup->bind(1, key);
      m_duplicates += m_lookup->step() ? 1 : 0;
      m_lookup->reset();
      insert_event(key);  // autocommit: one transaction per write
    }
    report.sections.database_ns = now_ns() - begin;
    report.counters.db_transactions = k_writes_per_step;
    report.counters.db_rows = k_writes_per_step;
  }

  double checksum() const override { return static_cast<double>(m_duplicates); }

 private:
  void insert_event() { insert_event(static_cast<std::int64_t>(m_rng() >> 2)); }
  void insert_event(std::int64_t key) {
    for (char& c : m_payload)
      c = static_cast<char>('a' + m_rng() % 26);
    m_insert->bind(1, key).bind(2, std::string_view(m_payload));
    m_insert->run();
  }

  std::filesystem::path m_path;
  std::mt19937_64 m_rng;
  std::string m_payload;
  std::optional<sqlite::Connection> m_db;
  std::optional<sqlite::Statement> m_lookup, m_insert;
  std::int64_t m_duplicates = 0;
};

// Not H1: a journal that makes every record durable before it goes on, as a write-ahead
// log with synchronous commits does. Each step overwrites one 512-byte record of a ring
// in a file written in full beforehand and waits for the device (fdatasync): no step
// changes the file's size, so the sync flushes data only and costs the same at every step.
// The step waits for the device, which is neither contention (no other process takes the
// CPU) nor a growing cost, so no hypothesis may be supported; it is timed as database time
// with one transaction and one row a step, so H3 is tested too and must find no growth.
// Whether off-CPU time dominates depends on the device: on the development VM, whose
// virtual disk has a write-back cache, a sync took 50 µs with a core to itself and the
// writer was 55-65% off-CPU (`off-CPU`, barely); a disk that really flushes takes
// milliseconds (`off-CPU` clearly), a faster cache could leave it under half (`none`).
// Both are right; H1 or any other hypothesis is wrong. (With every core busy, the same
// syncs took 4 ms: the wake-up after each waited for a CPU, which the run-queue check of
// the validator counts as a disturbance.)
constexpr std::size_t k_record_bytes = 512;
constexpr std::size_t k_ring_records = 128;

class FsyncWriter final : public Workload {
 public:
  explicit FsyncWriter(const WorkloadOptions& options)
      : m_path(options.dir / "journal.bin"), m_rng(options.seed), m_record(k_record_bytes, 'x') {}

  void prepare() override {
    m_fd.reset(::open(m_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!m_fd.valid()) fail("cannot create");
    const std::string ring(k_record_bytes * k_ring_records, '\0');
    if (::write(m_fd.get(), ring.data(), ring.size()) != static_cast<ssize_t>(ring.size()) ||
        ::fsync(m_fd.get()) != 0)
      fail("cannot fill");
  }

  void step(std::int64_t index, StepReport& report) override {
    for (char& c : m_record)
      c = static_cast<char>('a' + m_rng() % 26);
    const auto offset =
        static_cast<off_t>(static_cast<std::size_t>(index) % k_ring_records * k_record_bytes);
    const std::int64_t begin = now_ns();
    if (::pwrite(m_fd.get(), m_record.data(), m_record.size(), offset) !=
            static_cast<ssize_t>(m_record.size()) ||
        ::fdatasync(m_fd.get()) != 0)
      fail("cannot write and sync");
    report.sections.database_ns = now_ns() - begin;
    report.counters.db_transactions = 1;
    report.counters.db_rows = 1;
    report.work.emplace_back("records", 1.0);
    ++m_records;
  }

  double checksum() const override { return static_cast<double>(m_records); }

 private:
  [[noreturn]] void fail(const char* what) const {
    throw Error(fmt::format("{} {}: {}", what, m_path.string(), std::strerror(errno)));
  }

  std::filesystem::path m_path;
  std::mt19937_64 m_rng;
  std::string m_record;
  UniqueFd m_fd;
  std::int64_t m_records = 0;
};

}  // namespace

std::unique_ptr<Workload> make_fsync(const WorkloadOptions& options) {
  return std::make_unique<FsyncWriter>(options);
}

std::unique_ptr<Workload> make_store(const WorkloadOptions& options) {
  return std::make_unique<Store>(options);
}

}  // namespace nrmlab::validate
