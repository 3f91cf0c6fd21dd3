// The C256 original's two waits, planted (issue 18): its metric sampler asks for the CPU
// share over a timed interval (psutil's cpu_percent(interval=0.1): a 100 ms sleep a call)
// and its persistence opens the SQLite database, inserts one row, commits and closes it for
// every row (a synced commit each: the rollback journal's default synchronous=FULL). Under
// strace about 90% of the original's time is the sleep and 5% the syncs. Here each step
// sleeps a few milliseconds in `sample_cpu_share` and commits one row in `persist_row`:
// both are waits off the CPU, neither is contention (nothing else runs), and neither grows.
// The validator checks that the stack samples find both waits at their call sites: the
// sleep from sample_cpu_share, the sync from SQLite's commit (sqlite3PagerCommitPhaseOne).
#include <fmt/format.h>
#include <time.h>

#include <cmath>
#include <random>

#include "util/error.hpp"
#include "util/sqlite.hpp"
#include "validate/workloads_internal.hpp"

namespace nrmlab::validate {
namespace {

// The timed interval of one CPU-share reading (the original's was 100 ms; steps here are
// short so that the short validation stays short).
constexpr long k_sample_interval_ns = 3'000'000;

// Not inlined: the validator looks for this function as the sleep's call site.
[[gnu::noinline]] double sample_cpu_share(std::mt19937_64& rng) {
  timespec interval{0, k_sample_interval_ns};
  while (::clock_nanosleep(CLOCK_MONOTONIC, 0, &interval, &interval) != 0) {
  }
  return std::uniform_real_distribution<double>(0.0, 100.0)(rng);
}

// Not inlined, so that the stacks show it under SQLite's frames.
[[gnu::noinline]] void persist_row(const std::filesystem::path& path, std::int64_t step,
                                   double share) {
  sqlite::Connection db(path);  // opened and closed per row, as the original did
  db.execute("PRAGMA journal_mode=DELETE; PRAGMA synchronous=FULL;");
  db.execute("CREATE TABLE IF NOT EXISTS metrics(step INTEGER, cpu REAL)");
  sqlite::Statement insert(db, "INSERT INTO metrics(step, cpu) VALUES (?, ?)");
  insert.bind(1, step).bind(2, share);
  insert.run();
}

class WaitsWorkload final : public Workload {
 public:
  explicit WaitsWorkload(const WorkloadOptions& options)
      : m_path(options.dir / "metrics.db"), m_rng(options.seed) {}

  void step(std::int64_t index, StepReport& report) override {
    const double share = sample_cpu_share(m_rng);
    persist_row(m_path, index, share);
    m_sum += share;
    report.counters.db_transactions = 1;
    report.counters.db_rows = 1;
    report.work.emplace_back("rows", 1.0);
  }

  double checksum() const override { return m_sum; }

 private:
  std::filesystem::path m_path;
  std::mt19937_64 m_rng;
  double m_sum = 0.0;
};

}  // namespace

std::unique_ptr<Workload> make_waits(const WorkloadOptions& options) {
  return std::make_unique<WaitsWorkload>(options);
}

}  // namespace nrmlab::validate
