// model.md section 5: the two databases hold exactly the rows the counters say, in every
// persistence mode, with the original's schemas and journal modes.
#include "model/faithful_stores.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include <gtest/gtest.h>

#include "model/experiment_runner.hpp"
#include "model/simulation.hpp"
#include "model/synthetic_source.hpp"
#include "test_support.hpp"
#include "util/sqlite.hpp"

namespace nrmlab {
namespace {

using testing::ScratchDir;
using testing::StepLog;

class PersistenceModes : public ::testing::TestWithParam<model::Persistence> {};

std::int64_t count_rows(const std::filesystem::path& db, const std::string& table) {
  sqlite::Connection connection(db);
  return sqlite::query_int(connection, "SELECT count(*) FROM " + table);
}

TEST_P(PersistenceModes, RowCountsEqualTheCounters) {
  ScratchDir scratch;
  model::RunConfig config = testing::quick_config(scratch.path(), 25);
  config.params.max_agents = 10;
  config.overheads.sampling = {model::SamplingPolicy::Kind::per_call, 1};
  config.overheads.persistence = GetParam();
  StepLog log;
  const auto result = model::run_experiment(config, {&log, nullptr, {}});

  model::StepCounters total;
  std::uint64_t agents_created = 0;
  for (int index = 0; index < 4; ++index) {
    const auto steps = log.condition(index);
    std::uint64_t population = 1;  // the root, before step 0
    agents_created += 1;
    for (const auto& s : steps) {
      // Pooling conditions examine every pair of the population at detection time.
      const bool pooling = (index & 1) != 0;
      EXPECT_EQ(s.resonance_pairs, pooling ? population * (population - 1) / 2 : 0u);
      total.metric_samples += s.metric_samples;
      total.resonance_pairs += s.resonance_pairs;
      total.db_rows += s.db_rows;
      total.db_transactions += s.db_transactions;
      agents_created += s.spawns;
      population = s.agents_alive;
    }
  }
  const auto metrics = model::FaithfulStores::metrics_path(scratch.path());
  const auto bridge = model::FaithfulStores::bridge_path(scratch.path());
  const auto sampled = count_rows(metrics, "system_metrics");
  const auto resonances = count_rows(bridge, "resonance_events");
  const auto phases = count_rows(bridge, "phase_transformations");
  EXPECT_EQ(static_cast<std::uint64_t>(sampled), total.metric_samples);
  EXPECT_EQ(static_cast<std::uint64_t>(resonances), total.resonance_pairs);
  EXPECT_EQ(static_cast<std::uint64_t>(phases), agents_created);
  EXPECT_EQ(static_cast<std::uint64_t>(sampled + resonances + phases), total.db_rows);
  EXPECT_GT(resonances, 0);

  const std::uint64_t steps = 4 * 25;
  switch (GetParam()) {
    case model::Persistence::connection_per_write:
    case model::Persistence::commit_per_write:
      EXPECT_EQ(total.db_transactions, total.db_rows);  // every row its own commit
      break;
    case model::Persistence::transaction_per_step:
      // One per database per step that wrote: metrics every step, bridge only with rows.
      EXPECT_GE(total.db_transactions, steps);
      EXPECT_LE(total.db_transactions, 2 * steps);
      break;
    case model::Persistence::off:
      FAIL();
  }

  // The original's journal modes: bridge.db in WAL, metrics.db in the rollback journal.
  sqlite::Connection bridge_connection(bridge);
  sqlite::Statement bridge_mode(bridge_connection, "PRAGMA journal_mode");
  bridge_mode.step();
  EXPECT_EQ(bridge_mode.column_text(0), "wal");
  sqlite::Connection metrics_connection(metrics);
  sqlite::Statement metrics_mode(metrics_connection, "PRAGMA journal_mode");
  metrics_mode.step();
  EXPECT_EQ(metrics_mode.column_text(0), "delete");

  // Resonance rows carry agent ids and the three scores, resonant flagged by threshold.
  sqlite::Statement sample(
      bridge_connection, "SELECT state1_id, similarity, is_resonant FROM resonance_events LIMIT 1");
  ASSERT_TRUE(sample.step());
  EXPECT_EQ(sample.column_text(0), "root");
  EXPECT_EQ(sample.column_int(2), sample.column_double(1) >= 0.85 ? 1 : 0);
  (void)result;
}

INSTANTIATE_TEST_SUITE_P(AllButOff, PersistenceModes,
                         ::testing::Values(model::Persistence::connection_per_write,
                                           model::Persistence::commit_per_write,
                                           model::Persistence::transaction_per_step),
                         [](const auto& info) {
                           std::string name(model::persistence_name(info.param));
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(FaithfulStores, AppendAcrossRunsAsTheOriginalDid) {
  ScratchDir scratch;
  model::RunConfig config = testing::quick_config(scratch.path(), 10);
  config.params.max_agents = 6;
  config.overheads.persistence = model::Persistence::commit_per_write;
  model::run_experiment(config);
  const auto metrics = model::FaithfulStores::metrics_path(scratch.path());
  const auto once = count_rows(metrics, "system_metrics");
  model::run_experiment(config);
  EXPECT_EQ(count_rows(metrics, "system_metrics"), 2 * once);
}

TEST(FaithfulStores, OffWritesNoDatabase) {
  ScratchDir scratch;
  model::RunConfig config = testing::quick_config(scratch.path(), 10);
  StepLog log;
  model::run_experiment(config, {&log, nullptr, {}});
  EXPECT_FALSE(std::filesystem::exists(model::FaithfulStores::metrics_path(scratch.path())));
  EXPECT_FALSE(std::filesystem::exists(model::FaithfulStores::bridge_path(scratch.path())));
  for (const auto& record : log.records)
    EXPECT_EQ(record.counters.db_rows, 0u);
}

// Every row of `table` in id order, each value exact (doubles in hexadecimal), without
// the timestamp (the wall clock at the write).
std::vector<std::string> rows_of(const std::filesystem::path& db, const std::string& table) {
  sqlite::Connection connection(db);
  sqlite::Statement select(connection, "SELECT * FROM " + table + " ORDER BY id");
  std::vector<std::string> rows;
  const int columns = sqlite3_column_count(select.handle());
  while (select.step()) {
    std::string row;
    for (int c = 0; c < columns; ++c) {
      if (std::string_view(sqlite3_column_name(select.handle(), c)) == "timestamp") continue;
      switch (sqlite3_column_type(select.handle(), c)) {
        case SQLITE_INTEGER:
          row += fmt::format("i{}|", select.column_int(c));
          break;
        case SQLITE_FLOAT:
          row += fmt::format("f{:a}|", select.column_double(c));
          break;
        case SQLITE_TEXT:
          row += 't';
          row += select.column_text(c);
          row += '|';
          break;
        default:
          row += "?|";
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

// A pooling condition run directly on the stores, so that the old row-by-row path can write
// the reference. 40 agents: 780 pairs a step, six full batches of 128 and a remainder of 12
// (8 + 4); ids grow past the short-string buffer (root_child_3_child_5_...).
std::uint64_t run_pooling(const std::filesystem::path& dir, model::StepWrites writes) {
  model::StepCounters totals;
  model::FaithfulStores stores(dir, model::Persistence::transaction_per_step, writes);
  model::SyntheticSource source({7, 25.0, 40.0, 50.0, 10.0});
  model::Sampler sampler(source, {model::SamplingPolicy::Kind::per_call, 1},
                         std::chrono::milliseconds(0), &stores, nullptr);
  sampler.begin_condition(1);
  model::ModelParams params;
  params.max_agents = 40;
  model::MechanismSet mechanisms;
  mechanisms.energy_pooling = true;
  model::Simulation simulation(params, mechanisms, sampler, &stores);
  for (int step = 0; step < 9; ++step) {
    const model::StepCounters& counters = simulation.step();
    totals.db_rows += counters.db_rows;
    totals.db_transactions += counters.db_transactions;
  }
  EXPECT_EQ(totals.db_transactions, 2u * 9u) << "one per database per step";
  return totals.db_rows;
}

TEST(FaithfulStores, BatchedStepWritesLeaveTheRowsOfTheRowByRowPath) {
  ScratchDir scratch;
  const double before = model::wall_clock_seconds();
  const std::uint64_t batched_rows = run_pooling(scratch / "batched", model::StepWrites::batched);
  const std::uint64_t reference_rows =
      run_pooling(scratch / "row_by_row", model::StepWrites::row_by_row);
  const double after = model::wall_clock_seconds();
  EXPECT_EQ(batched_rows, reference_rows);

  const std::vector<std::pair<std::string, std::string>> tables = {
      {"bridge.db", "resonance_events"},
      {"bridge.db", "phase_transformations"},
      {"metrics.db", "system_metrics"}};
  std::size_t total = 0;
  for (const auto& [file, table] : tables) {
    const auto batched = rows_of(scratch / "batched" / file, table);
    const auto reference = rows_of(scratch / "row_by_row" / file, table);
    EXPECT_EQ(batched, reference) << table;
    total += batched.size();
  }
  EXPECT_EQ(total, batched_rows);
  EXPECT_GT(rows_of(scratch / "batched/bridge.db", "resonance_events").size(), 2000u);
  EXPECT_EQ(rows_of(scratch / "batched/bridge.db", "resonance_events").front(),
            rows_of(scratch / "row_by_row/bridge.db", "resonance_events").front());

  // Timestamps are the wall clock when the row was written, ascending with the ids.
  sqlite::Connection bridge(scratch / "batched/bridge.db");
  sqlite::Statement times(bridge, "SELECT timestamp FROM resonance_events ORDER BY id");
  double previous = before;
  while (times.step()) {
    EXPECT_GE(times.column_double(0), previous);
    previous = times.column_double(0);
  }
  EXPECT_LE(previous, after);
}

TEST(FaithfulStores, AnInterruptedStepLeavesNoneOfItsBufferedRows) {
  ScratchDir scratch;
  {
    model::FaithfulStores stores(scratch.path(), model::Persistence::transaction_per_step);
    stores.write_resonance("a", "b", {0.5, 0.5, 0.5}, false);
    stores.end_step();
    for (int i = 0; i < 200; ++i)  // more than a batch: some reach the file uncommitted
      stores.write_resonance("a", "b", {0.9, 0.9, 0.9}, true);
  }  // destroyed mid-step, as when a run is interrupted
  EXPECT_EQ(count_rows(scratch / "bridge.db", "resonance_events"), 1);
}

}  // namespace
}  // namespace nrmlab
