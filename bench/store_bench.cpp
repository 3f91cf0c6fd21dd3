// The clean preset's store against SQLite's own limit (issue 21): a C256 run under the clean
// preset (transaction-per-step) and its database time (the run's wall time less the same
// run's without databases), then a plain prepared-insert loop -- one prepared single-row INSERT per
// table, bind, step, reset, one transaction per step and database -- writing the same rows (read
// back from the run's files) into fresh files with the same schema and connection settings. Both in
// the same iteration, so their ratio is measured under the same load.
//
// Arg: steps per condition (3000 is the whole C256: 28.7 M rows, minutes per iteration).
#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "model/experiment_runner.hpp"
#include "model/faithful_stores.hpp"
#include "util/sqlite.hpp"

namespace nrmlab {
namespace {

namespace fs = std::filesystem;

// What each step wrote.
class StepRows final : public model::StepObserver {
 public:
  void on_condition_begin(int) override { m_condition_start = true; }
  void on_step(const model::StepRecord& record) override {
    const model::StepCounters& c = record.counters;
    // A condition's step 0 also wrote the root's phase row.
    steps.push_back(
        {c.metric_samples, c.spawns + (m_condition_start ? 1u : 0u), c.resonance_pairs});
    m_condition_start = false;
  }
  struct Step {
    std::uint64_t metrics, phases, resonances;
  };
  std::vector<Step> steps;

 private:
  bool m_condition_start = false;
};

// Reads a table's rows in id order, a step's worth at a time.
class RowReader {
 public:
  RowReader(sqlite::Connection& connection, const std::string& columns, const std::string& table)
      : m_select(connection, "SELECT " + columns + " FROM " + table + " ORDER BY id") {}
  // The next row's statement (its columns readable), or null at the end.
  sqlite3_stmt* next() { return m_select.step() ? m_select.handle() : nullptr; }

 private:
  sqlite::Statement m_select;
};

// One table's rows of one step, held as SQLite values copied out of the run's file.
struct HeldRows {
  int columns = 0;
  std::vector<sqlite3_value*> values;
  void take(RowReader& reader, std::uint64_t count) {
    for (std::uint64_t r = 0; r < count; ++r) {
      sqlite3_stmt* row = reader.next();
      if (row == nullptr) throw std::runtime_error("fewer rows in the file than the run wrote");
      columns = sqlite3_column_count(row);
      for (int c = 0; c < columns; ++c)
        values.push_back(sqlite3_value_dup(sqlite3_column_value(row, c)));
    }
  }
  void clear() {
    for (sqlite3_value* value : values)
      sqlite3_value_free(value);
    values.clear();
  }
  ~HeldRows() { clear(); }
};

// The plain loop: bind each value (texts in place), step, reset.
void insert_each(sqlite::Statement& insert, const HeldRows& rows) {
  if (rows.columns == 0) return;
  for (std::size_t at = 0; at < rows.values.size(); at += static_cast<std::size_t>(rows.columns)) {
    for (int c = 0; c < rows.columns; ++c) {
      sqlite3_value* value = rows.values[at + static_cast<std::size_t>(c)];
      switch (sqlite3_value_type(value)) {
        case SQLITE_FLOAT:
          sqlite3_bind_double(insert.handle(), c + 1, sqlite3_value_double(value));
          break;
        case SQLITE_INTEGER:
          sqlite3_bind_int64(insert.handle(), c + 1, sqlite3_value_int64(value));
          break;
        default:  // text, held as long as the value
          sqlite3_bind_text(insert.handle(), c + 1,
                            reinterpret_cast<const char*>(sqlite3_value_text(value)),
                            sqlite3_value_bytes(value), SQLITE_STATIC);
      }
    }
    insert.run_keeping_bindings();
  }
}

constexpr const char* k_metric_columns =
    "timestamp, cpu_percent, memory_percent, memory_used_mb, disk_percent, disk_used_gb, "
    "network_sent_mb, network_recv_mb, process_count";
constexpr const char* k_phase_columns =
    "timestamp, pi_phase, e_phase, phi_phase, magnitude, reality_cpu, reality_memory, "
    "reality_disk, transformation_type";
constexpr const char* k_resonance_columns =
    "timestamp, state1_id, state2_id, similarity, phase_alignment, magnitude_ratio, is_resonant";

std::string insert_sql(const std::string& table, const std::string& columns, int count) {
  std::string sql = "INSERT INTO " + table + "(" + columns + ") VALUES (?";
  for (int c = 1; c < count; ++c)
    sql += ",?";
  return sql + ")";
}

// Writes the run's rows (read from `run_dir`) into `loop_dir` with the plain loop; returns
// the time spent inside the loop's transactions.
std::int64_t plain_loop(const fs::path& run_dir, const fs::path& loop_dir,
                        const std::vector<StepRows::Step>& steps) {
  // Fresh files with the schema and the clean store's connection settings, made by the store.
  { const model::FaithfulStores schema(loop_dir, model::Persistence::transaction_per_step); }
  constexpr auto k_confined = sqlite::Connection::Threading::confined;
  sqlite::Connection metrics(model::FaithfulStores::metrics_path(loop_dir), k_confined);
  sqlite::Connection bridge(model::FaithfulStores::bridge_path(loop_dir), k_confined);
  metrics.execute("PRAGMA synchronous=OFF");
  bridge.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL");
  sqlite::Statement metric_insert =
      metrics.prepare(insert_sql("system_metrics", k_metric_columns, 9));
  sqlite::Statement phase_insert =
      bridge.prepare(insert_sql("phase_transformations", k_phase_columns, 9));
  sqlite::Statement resonance_insert =
      bridge.prepare(insert_sql("resonance_events", k_resonance_columns, 7));

  sqlite::Connection run_metrics(model::FaithfulStores::metrics_path(run_dir));
  sqlite::Connection run_bridge(model::FaithfulStores::bridge_path(run_dir));
  RowReader metric_rows(run_metrics, k_metric_columns, "system_metrics");
  RowReader phase_rows(run_bridge, k_phase_columns, "phase_transformations");
  RowReader resonance_rows(run_bridge, k_resonance_columns, "resonance_events");

  std::int64_t loop_ns = 0;
  HeldRows held_metrics, held_phases, held_resonances;
  for (const StepRows::Step& step : steps) {
    held_metrics.take(metric_rows, step.metrics);
    held_phases.take(phase_rows, step.phases);
    held_resonances.take(resonance_rows, step.resonances);
    const auto started = std::chrono::steady_clock::now();
    if (step.metrics > 0) {
      metrics.execute("BEGIN");
      insert_each(metric_insert, held_metrics);
      metrics.execute("COMMIT");
    }
    if (step.phases + step.resonances > 0) {
      bridge.execute("BEGIN");
      insert_each(phase_insert, held_phases);
      insert_each(resonance_insert, held_resonances);
      bridge.execute("COMMIT");
    }
    loop_ns += (std::chrono::steady_clock::now() - started).count();
    held_metrics.clear();
    held_phases.clear();
    held_resonances.clear();
  }
  return loop_ns;
}

double seconds_of(const std::function<void()>& work) {
  const auto started = std::chrono::steady_clock::now();
  work();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

void BM_CleanStoreVsInsertLoop(benchmark::State& state) {
  const fs::path work = fs::temp_directory_path() / "nrmlab-store-bench";
  model::RunConfig config;
  config.apply_preset(model::Preset::clean);  // transaction-per-step
  config.params.steps = state.range(0);
  config.source = model::parse_source_spec("synthetic:1", model::ReplayGranularity::step, 1);
  config.out_dir = config.db_dir = work / "run";
  model::RunConfig engine_only = config;
  engine_only.overheads.persistence = model::Persistence::off;
  double store_s = 0.0, loop_s = 0.0, rows = 0.0;
  for (auto _ : state) {
    fs::remove_all(work);
    // The store's time: the run's wall time less the engine's alone (no section timing,
    // whose two clock reads per database call would be charged to the store).
    StepRows written;
    model::RunHooks hooks;
    hooks.observer = &written;
    const double run_s = seconds_of([&] { model::run_experiment(config, hooks); });
    const double engine_s = seconds_of([&] { model::run_experiment(engine_only); });
    const std::int64_t loop_ns = plain_loop(work / "run", work / "loop", written.steps);
    std::uint64_t count = 0;
    for (const auto& s : written.steps)
      count += s.metrics + s.phases + s.resonances;
    store_s += run_s - engine_s;
    loop_s += static_cast<double>(loop_ns) * 1e-9;
    rows += static_cast<double>(count);
  }
  fs::remove_all(work);
  const auto n = static_cast<double>(state.iterations());
  state.counters["store_s"] = store_s / n;
  state.counters["loop_s"] = loop_s / n;
  state.counters["rows"] = rows / n;
  state.counters["store_us/row"] = store_s / rows * 1e6;
  state.counters["loop_us/row"] = loop_s / rows * 1e6;
  state.counters["store/loop"] = store_s / loop_s;
}
// 300 steps per condition: 2.0 M rows, a tenth of the whole C256's steps (the ON-OFF
// condition writes 4,950 rows a step from step 7 on); 3000: the whole C256, 28.7 M rows and
// 4 GB per file set, run once whatever --benchmark_repetitions says (minutes each).
BENCHMARK(BM_CleanStoreVsInsertLoop)->Arg(300)->Unit(benchmark::kSecond)->Iterations(1);
BENCHMARK(BM_CleanStoreVsInsertLoop)
    ->Arg(3000)
    ->Unit(benchmark::kSecond)
    ->Iterations(1)
    ->Repetitions(1);

}  // namespace
}  // namespace nrmlab
