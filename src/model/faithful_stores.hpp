// The original's two databases (model.md section 5) with its schemas, written in one of the
// persistence modes. Connection-per-write reproduces the original's pattern: a connection
// opened, one row inserted and committed, the connection closed -- for every row.
// Transaction-per-step (the clean preset's) is built for speed: each step's rows are
// buffered and written by multi-row inserts, with synchronous=NORMAL; the files hold the
// same rows in the same order as one insert per row would leave.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string_view>

#include "model/metric_sample.hpp"
#include "model/overheads.hpp"
#include "model/phase_space.hpp"
#include "model/step_counters.hpp"

namespace nrmlab::model {

class TableStore;
class StepDatabase;
struct StepStores;

// How transaction-per-step writes its rows. Runs use `batched`; `row_by_row` (one prepared
// single-row insert per row, the original's synchronous=FULL) is the store as it was before,
// kept as the reference that tests and benchmarks compare the batched files with.
enum class StepWrites { batched, row_by_row };

// A store that writes nothing and counts the rows and transactions its mode would have
// written: the work of a run, for the predictor (study/prediction.hpp), at no database cost.
struct CountOnly {};

class FaithfulStores {
 public:
  // Creates `dir` and both files (appending to existing ones, as the original did). Throws
  // nrmlab::Error naming the file when the directory or a database cannot be written.
  FaithfulStores(const std::filesystem::path& dir, Persistence mode,
                 StepWrites writes = StepWrites::batched);
  // Counts as `mode` would write (one transaction per row in the per-write modes; per step,
  // one per database the step wrote rows to), opening no file.
  FaithfulStores(Persistence mode, CountOnly);
  ~FaithfulStores();
  FaithfulStores(const FaithfulStores&) = delete;
  FaithfulStores& operator=(const FaithfulStores&) = delete;

  void write_metric(const MetricSample& sample);
  void write_phase(const PhaseState& phase, const MetricSample& sample);
  void write_resonance(std::string_view first_id, std::string_view second_id,
                       const Resonance& resonance, bool resonant);
  // Commits the step's transaction (transaction-per-step); no-op in the other modes.
  void end_step();

  std::uint64_t transactions() const;
  std::uint64_t rows() const;

  // Section timing (off by default: two clock reads per database call).
  void enable_timing(bool on) { m_timing = on; }
  // Cumulative database time (database_ns) and the clock reads spent measuring it.
  const SectionTimes& section_totals() const { return m_sections; }

  static std::filesystem::path metrics_path(const std::filesystem::path& dir);
  static std::filesystem::path bridge_path(const std::filesystem::path& dir);

 private:
  template <typename Write>
  void timed(Write&& write);
  template <typename Batch>
  void add_row(StepDatabase& database, Batch& batch, const typename Batch::RowType& row);

  // Count-only: a row into database 0 (metrics.db) or 1 (bridge.db).
  void count_row(std::size_t database);

  // The per-write modes' two files, or transaction-per-step's.
  std::unique_ptr<TableStore> m_metrics;
  std::unique_ptr<TableStore> m_bridge;
  std::unique_ptr<StepStores> m_step_stores;
  bool m_timing = false;
  SectionTimes m_sections;
  // Count-only (no store above is open): the mode counted, the totals, and which
  // databases the current step wrote to.
  std::optional<Persistence> m_counted_mode;
  std::uint64_t m_counted_rows = 0;
  std::uint64_t m_counted_transactions = 0;
  bool m_step_wrote[2] = {false, false};
};

}  // namespace nrmlab::model
