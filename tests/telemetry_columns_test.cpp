// The telemetry column registry (telemetry/columns.hpp): the schema it generates is the one
// every telemetry.db was written with before it existed; every field of every row struct has
// a column; every column survives a write and a read back through the analysis reader and
// the export; older databases still read; the step counters are listed once.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "analysis/sound_mode.hpp"
#include "analysis/telemetry_reader.hpp"
#include "row_fields.hpp"
#include "telemetry/columns.hpp"
#include "telemetry/export.hpp"
#include "telemetry/telemetry_store.hpp"
#include "test_support.hpp"
#include "util/error.hpp"
#include "util/sqlite.hpp"

namespace nrmlab::testing {
namespace {

namespace fs = std::filesystem;
using telemetry::Value;

// k_schema of src/telemetry/telemetry_store.cpp at 2190b65, the last commit before the
// registry, verbatim (the string it executed): what every older database holds. A column
// added to the registry fails the two tests below on purpose (the schema changed); this text
// then stays, as the schema older databases have.
constexpr const char* k_schema_before_registry = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS conditions(condition INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE IF NOT EXISTS steps(
  condition INTEGER, step INTEGER, t_ns INTEGER, wall_ns INTEGER, cpu_ns INTEGER,
  usage_steps INTEGER, user_ns INTEGER, system_ns INTEGER, voluntary_switches INTEGER, involuntary_switches INTEGER,
  minor_faults INTEGER, major_faults INTEGER, sampling_ns INTEGER, window_ns INTEGER,
  database_ns INTEGER, recorder_ns INTEGER, compute_ns INTEGER, timer_reads INTEGER,
  agents INTEGER, evolve_calls INTEGER, metric_samples INTEGER, resonance_pairs INTEGER,
  resonant_pairs INTEGER, clusters_found INTEGER, pattern_count INTEGER, spawns INTEGER,
  deaths INTEGER, db_transactions INTEGER, db_rows INTEGER,
  PRIMARY KEY(condition, step));
CREATE TABLE IF NOT EXISTS memory(
  condition INTEGER, step INTEGER, t_ns INTEGER, rss_bytes INTEGER, allocated INTEGER, active INTEGER, resident INTEGER, mapped INTEGER, retained INTEGER,
  metadata INTEGER, free_bytes INTEGER, mmapped INTEGER, top_pad INTEGER,
  rss_per_allocated REAL, resident_per_active REAL, active_per_allocated REAL,
  alloc_probe_ns INTEGER, PRIMARY KEY(condition, step));
CREATE TABLE IF NOT EXISTS metric_inputs(
  condition INTEGER, step INTEGER, call INTEGER, timestamp REAL, cpu_percent REAL,
  memory_percent REAL, disk_percent REAL, memory_used_mb REAL, disk_used_gb REAL,
  network_sent_mb REAL, network_recv_mb REAL, process_count INTEGER,
  PRIMARY KEY(condition, step, call));
CREATE TABLE IF NOT EXISTS system(
  t_ns INTEGER, unix_time REAL, condition INTEGER, step INTEGER, cpu_percent REAL,
  memory_percent REAL, load1 REAL, load5 REAL, load15 REAL, procs_running INTEGER,
  other_cpu_ns INTEGER, io_read_bytes INTEGER, io_write_bytes INTEGER, io_syscr INTEGER,
  io_syscw INTEGER, io_rchar INTEGER, io_wchar INTEGER, pss_bytes INTEGER);
CREATE TABLE IF NOT EXISTS sensors(
  t_ns INTEGER, condition INTEGER, step INTEGER, kind TEXT, name TEXT, value REAL);
CREATE TABLE IF NOT EXISTS files(
  t_ns INTEGER, condition INTEGER, step INTEGER, name TEXT, bytes INTEGER);
CREATE TABLE IF NOT EXISTS step_work(
  condition INTEGER, step INTEGER, name TEXT, value REAL, PRIMARY KEY(condition, step, name));
CREATE TABLE IF NOT EXISTS process(
  t_ns INTEGER, condition INTEGER, step INTEGER, processes INTEGER, threads INTEGER,
  user_ns INTEGER, system_ns INTEGER, voluntary_switches INTEGER, involuntary_switches INTEGER,
  minor_faults INTEGER, major_faults INTEGER, rss_bytes INTEGER, pss_bytes INTEGER,
  read_bytes INTEGER, write_bytes INTEGER, syscr INTEGER, syscw INTEGER, rchar INTEGER,
  wchar INTEGER, open_fds INTEGER);
)sql";

// Every CREATE statement in sqlite_master, in creation order, each followed by ";\n".
std::string stored_schema(const fs::path& path) {
  sqlite::Connection db(path);
  sqlite::Statement query(db, "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid");
  std::string sql;
  while (query.step())
    sql += query.column_text(0) + ";\n";
  return sql;
}

// `schema` (the pre-registry text, as generated or as SQLite stored it) with the columns added
// since, each on a line of its own at the end of its table: the steps table's runq_ns before
// its key, the process table's runq_ns (issue 17), the steps table's I/O columns after runq_ns
// (issue 20); and the tables added since, at the end:
// stack sampling's (issue 18). A column or table added later extends this list.
std::string with_later_columns(std::string schema) {
  const auto insert = [&](const std::string& after, const std::string& text) {
    const auto at = schema.find(after);
    ASSERT_NE(at, std::string::npos) << after;
    ASSERT_EQ(schema.find(after, at + 1), std::string::npos) << after;
    schema.insert(at + after.size(), text);
  };
  insert("db_rows INTEGER,\n", "  runq_ns INTEGER,\n");
  insert("  runq_ns INTEGER,\n",
         "  io_read_bytes INTEGER, io_write_bytes INTEGER, io_rchar INTEGER, io_wchar INTEGER, "
         "io_syscr INTEGER, io_syscw INTEGER,\n");
  insert("wchar INTEGER, open_fds INTEGER", ",\n  runq_ns INTEGER");
  // SQLite stores the CREATE text without "IF NOT EXISTS" and the ";".
  const bool stored = schema.find("IF NOT EXISTS") == std::string::npos;
  for (const char* table :
       {"profile_frames(id INTEGER PRIMARY KEY, function TEXT, module TEXT, address INTEGER)",
        "profile_stacks(id INTEGER PRIMARY KEY, parent INTEGER, frame INTEGER)",
        "profile_counts(window INTEGER, stack INTEGER, wait TEXT, samples INTEGER, weight_ns "
        "INTEGER)"})
    schema += std::string(stored ? "CREATE TABLE " : "CREATE TABLE IF NOT EXISTS ") + table + ";\n";
  return schema;
}

TEST(TelemetryColumns, GeneratedSchemaIsTheTextBeforeTheRegistryPlusLaterColumns) {
  // (Appended, not "\n" + schema: GCC 12 warns -Wrestrict on that, a false positive.)
  std::string generated = "\n";
  generated += telemetry::schema_sql();
  EXPECT_EQ(generated, with_later_columns(k_schema_before_registry));
}

TEST(TelemetryColumns, NewDatabasesStoreTheSchemaOfOlderOnes) {
  ScratchDir scratch;
  { telemetry::TelemetryStore store(scratch / "new.db"); }
  // sqlite_master of a database nrmlab wrote before the registry, captured from that build.
  std::ifstream in(fs::path(NRMLAB_TEST_DATA) / "telemetry_v1_sqlite_master.sql");
  ASSERT_TRUE(in);
  std::string captured;
  for (std::string line; std::getline(in, line);)
    if (!line.starts_with("--")) captured += line + "\n";
  EXPECT_EQ(stored_schema(scratch / "new.db"), with_later_columns(captured));
}

template <class Row>
std::vector<Value> values_of(const Row& row) {
  std::vector<Value> values;
  for (const auto& column : telemetry::table_of<Row>().columns)
    values.push_back(column.read(row));
  return values;
}

// Changing any one field of a row changes some column's value: no field goes unrecorded.
// `unstored` is a field the registry deliberately leaves out (nullptr: none).
template <class Row>
void expect_every_field_has_a_column(const void* (*unstored)(const Row&) = nullptr) {
  Row row;
  Filler filler;
  for_each_leaf(row, filler);
  const auto original = values_of(row);
  int leaves = 0;
  auto count = [&](auto&) { ++leaves; };
  for_each_leaf(row, count);
  for (int target = 0; target < leaves; ++target) {
    Row changed = row;
    int index = 0;
    const void* address = nullptr;
    auto perturb_one = [&](auto& leaf) {
      if (index++ == target) {
        Perturb{}(leaf);
        address = &leaf;
      }
    };
    for_each_leaf(changed, perturb_one);
    const bool skipped = unstored && address == unstored(changed);
    EXPECT_EQ(values_of(changed) != original, !skipped)
        << telemetry::table_of<Row>().spec.name << ": field " << target
        << (skipped ? " is not meant to be stored" : " of the row struct has no column");
  }
}

TEST(TelemetryColumns, EveryFieldOfEveryRowHasAColumn) {
  expect_every_field_has_a_column<telemetry::MetaRow>();
  expect_every_field_has_a_column<telemetry::ConditionRow>();
  expect_every_field_has_a_column<telemetry::StepRow>();
  expect_every_field_has_a_column<telemetry::MemoryRow>();
  expect_every_field_has_a_column<telemetry::SampleRow>();
  expect_every_field_has_a_column<telemetry::SystemRow>();
  expect_every_field_has_a_column<telemetry::SensorRow>();
  expect_every_field_has_a_column<telemetry::FileRow>();
  expect_every_field_has_a_column<telemetry::WorkRow>();
  // The sample's own clock reading is not stored: the row's t_ns is the same instant.
  expect_every_field_has_a_column<telemetry::ProcessRow>(
      [](const telemetry::ProcessRow& row) -> const void* { return &row.sample.t_ns; });
}

TEST(TelemetryColumns, TypesAndNullabilityFollowTheFields) {
  const auto& steps = telemetry::telemetry_table("steps");
  EXPECT_EQ(steps.columns.size(), 36u);
  EXPECT_FALSE(telemetry::find_column(steps, "wall_ns")->nullable);
  EXPECT_TRUE(telemetry::find_column(steps, "involuntary_switches")->nullable);
  // Added last: older column orders hold.
  for (const auto* name : {"runq_ns", "io_read_bytes", "io_write_bytes", "io_rchar", "io_wchar",
                           "io_syscr", "io_syscw"}) {
    const auto* column = telemetry::find_column(steps, name);
    ASSERT_NE(column, nullptr) << name;
    EXPECT_GE(column - steps.columns.data(), 29) << name;
    EXPECT_TRUE(column->nullable) << name;
    EXPECT_EQ(column->use, telemetry::AnalysisUse::optional) << name;
  }
  EXPECT_EQ(steps.columns.back().name, "io_syscw");
  const auto& process = telemetry::telemetry_table("process");
  EXPECT_EQ(process.columns.back().name, "runq_ns");
  EXPECT_TRUE(process.columns.back().nullable);
  const auto& memory = telemetry::telemetry_table("memory");
  EXPECT_EQ(telemetry::find_column(memory, "rss_per_allocated")->type, telemetry::SqlType::real);
  EXPECT_TRUE(telemetry::find_column(memory, "rss_per_allocated")->nullable);
  const auto& sensors = telemetry::telemetry_table("sensors");
  EXPECT_EQ(telemetry::find_column(sensors, "kind")->type, telemetry::SqlType::text);
  EXPECT_EQ(telemetry::find_column(sensors, "missing"), nullptr);
  EXPECT_THROW(telemetry::telemetry_table("no_such_table"), Error);
  for (const auto& table : telemetry::telemetry_tables())
    for (const auto& column : table.columns)
      EXPECT_FALSE(column.doc.empty()) << table.name << "." << column.name;
}

std::vector<std::string> read_lines(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

void expect_json(const nlohmann::json& actual, const Value& expected, const std::string& where) {
  if (std::holds_alternative<std::monostate>(expected)) {
    EXPECT_TRUE(actual.is_null()) << where << ": " << actual;
  } else if (const auto* integer = std::get_if<std::int64_t>(&expected)) {
    EXPECT_TRUE(actual.is_number_integer() && actual.get<std::int64_t>() == *integer)
        << where << ": " << actual << " != " << *integer;
  } else if (const auto* real = std::get_if<double>(&expected)) {
    EXPECT_TRUE(actual.is_number_float() && actual.get<double>() == *real)
        << where << ": " << actual << " != " << *real;
  } else {
    const auto text = std::get<std::string_view>(expected);
    EXPECT_TRUE(actual.is_string() && actual.get<std::string>() == text)
        << where << ": " << actual << " != " << text;
  }
}

std::string csv_text(const Value& value) {
  if (const auto* integer = std::get_if<std::int64_t>(&value)) return std::to_string(*integer);
  if (const auto* real = std::get_if<double>(&value)) return fmt::format("{}", *real);
  if (const auto* text = std::get_if<std::string_view>(&value)) return std::string(*text);
  return "";
}

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> fields(1);
  for (const char c : line)
    if (c == ',')
      fields.emplace_back();
    else
      fields.back() += c;
  return fields;
}

// The export of `rows`' table holds exactly `rows`, column by column, as CSV and JSON Lines.
template <class Row>
void expect_exported(const fs::path& csv_dir, const fs::path& json_dir,
                     const std::vector<Row>& rows) {
  const auto& table = telemetry::table_of<Row>();
  const std::string name(table.spec.name);
  const auto csv = read_lines(csv_dir / (name + ".csv"));
  const auto json = read_lines(json_dir / (name + ".jsonl"));
  ASSERT_EQ(csv.size(), rows.size() + 1) << name;
  ASSERT_EQ(json.size(), rows.size()) << name;
  std::vector<std::string> header;
  for (const auto& column : table.columns)
    header.emplace_back(column.spec.name);
  EXPECT_EQ(split_csv(csv[0]), header) << name;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const auto fields = split_csv(csv[r + 1]);
    const auto object = nlohmann::json::parse(json[r]);
    ASSERT_EQ(fields.size(), table.columns.size()) << name;
    ASSERT_EQ(object.size(), table.columns.size()) << name;
    for (std::size_t c = 0; c < table.columns.size(); ++c) {
      const auto& column = table.columns[c];
      const std::string where = fmt::format("{}.{} row {}", name, column.spec.name, r);
      const Value expected = column.read(rows[r]);
      EXPECT_EQ(fields[c], csv_text(expected)) << where;
      expect_json(object.at(std::string(column.spec.name)), expected, where);
    }
  }
}

double as_double(const Value& value) {
  if (const auto* integer = std::get_if<std::int64_t>(&value)) return static_cast<double>(*integer);
  if (const auto* real = std::get_if<double>(&value)) return *real;
  return std::nan("");
}

// The analysis reader's columns hold `rows` (one condition's, in key order), and are exactly
// the columns the registry says the analysis reads (`skip`: the map's key).
template <class Row>
void expect_analysed(const analysis::Columns& columns, const std::vector<Row>& rows,
                     std::string_view skip = "") {
  const auto& table = telemetry::table_of<Row>();
  std::vector<std::string> expected_names;
  for (const auto& column : table.columns)
    if (column.spec.use != telemetry::AnalysisUse::unread && column.spec.name != skip)
      expected_names.emplace_back(column.spec.name);
  std::vector<std::string> names;
  for (const auto& name : columns.names())
    if (!name.starts_with("work.")) names.push_back(name);
  EXPECT_EQ(names, expected_names) << table.spec.name;
  ASSERT_EQ(columns.rows(), rows.size()) << table.spec.name;
  for (const auto& column : table.columns) {
    if (!columns.has(std::string(column.spec.name))) continue;
    for (std::size_t r = 0; r < rows.size(); ++r) {
      const double expected = as_double(column.read(rows[r]));
      const double actual = columns[std::string(column.spec.name)][r];
      EXPECT_TRUE(std::isnan(expected) ? std::isnan(actual) : actual == expected)
          << table.spec.name << "." << column.spec.name << " row " << r << ": " << actual
          << " != " << expected;
    }
  }
}

TEST(TelemetryColumns, EveryColumnRoundTripsThroughTheExport) {
  ScratchDir scratch;
  const auto batch = every_column_batch();
  { telemetry::TelemetryStore(scratch / "telemetry.db").write(batch); }
  const auto db = scratch / "telemetry.db";
  const auto csv = telemetry::export_telemetry(db, scratch / "csv", telemetry::ExportFormat::csv);
  telemetry::export_telemetry(db, scratch / "json", telemetry::ExportFormat::jsonl);
  ASSERT_EQ(csv.size(), telemetry::telemetry_tables().size());
  for (std::size_t i = 0; i < csv.size(); ++i)
    EXPECT_EQ(csv[i].stem().string(), telemetry::telemetry_tables()[i].name);
  const auto c = scratch / "csv", j = scratch / "json";
  expect_exported(c, j, batch.meta);
  expect_exported(c, j, batch.conditions);
  expect_exported(c, j, batch.steps);
  expect_exported(c, j, batch.memory);
  expect_exported(c, j, batch.samples);
  expect_exported(c, j, batch.system);
  expect_exported(c, j, batch.sensors);
  expect_exported(c, j, batch.files);
  expect_exported(c, j, batch.work);
  expect_exported(c, j, batch.process);
}

// Every table of the database, as {"table", "columns", "rows"} per line, rows in storage
// order and values typed as SQLite stored them.
std::vector<nlohmann::ordered_json> dump_tables(const fs::path& path) {
  sqlite::Connection db(path);
  std::vector<nlohmann::ordered_json> tables;
  sqlite::Statement list(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid");
  while (list.step()) {
    const std::string name = list.column_text(0);
    sqlite::Statement rows(db, fmt::format("SELECT * FROM \"{}\" ORDER BY rowid", name));
    sqlite3_stmt* raw = rows.handle();
    nlohmann::ordered_json table = {{"table", name},
                                    {"columns", nlohmann::ordered_json::array()},
                                    {"rows", nlohmann::ordered_json::array()}};
    for (int c = 0; c < sqlite3_column_count(raw); ++c)
      table["columns"].push_back(sqlite3_column_name(raw, c));
    while (rows.step()) {
      nlohmann::ordered_json row = nlohmann::ordered_json::array();
      for (int c = 0; c < sqlite3_column_count(raw); ++c)
        switch (sqlite3_column_type(raw, c)) {
          case SQLITE_INTEGER:
            row.push_back(sqlite3_column_int64(raw, c));
            break;
          case SQLITE_FLOAT:
            row.push_back(sqlite3_column_double(raw, c));
            break;
          case SQLITE_TEXT:
            row.push_back(rows.column_text(c));
            break;
          default:
            row.push_back(nullptr);
        }
      table["rows"].push_back(row);
    }
    tables.push_back(table);
  }
  return tables;
}

// The same batch written by the hand-written binds before the registry: compiled from the
// sources at 2190b65 with tests/row_fields.hpp, and its database dumped as dump_tables does.
// A column bound from the wrong field (two accessors swapped) fails here, as nowhere else.
// Compared column by column, by name, so a column added later leaves the test as it is.
TEST(TelemetryColumns, EveryColumnHoldsWhatTheCodeBeforeTheRegistryWrote) {
  ScratchDir scratch;
  { telemetry::TelemetryStore(scratch / "telemetry.db").write(every_column_batch()); }
  const auto tables = dump_tables(scratch / "telemetry.db");
  const auto expected = read_lines(fs::path(NRMLAB_TEST_DATA) / "telemetry_v1_every_column.jsonl");
  ASSERT_EQ(expected.size(), 10u);
  for (const std::string& line : expected) {
    const auto old = nlohmann::ordered_json::parse(line);
    const auto table = std::find_if(tables.begin(), tables.end(),
                                    [&](const auto& t) { return t["table"] == old["table"]; });
    ASSERT_NE(table, tables.end()) << old["table"];
    const auto& columns = (*table)["columns"];
    ASSERT_EQ((*table)["rows"].size(), old["rows"].size()) << old["table"];
    for (std::size_t c = 0; c < old["columns"].size(); ++c) {
      const auto at = std::find(columns.begin(), columns.end(), old["columns"][c]);
      ASSERT_NE(at, columns.end()) << old["table"] << "." << old["columns"][c];
      const auto index = static_cast<std::size_t>(at - columns.begin());
      for (std::size_t r = 0; r < old["rows"].size(); ++r)
        EXPECT_EQ((*table)["rows"][r][index].dump(), old["rows"][r][c].dump())
            << old["table"] << "." << old["columns"][c] << " row " << r;
    }
  }
}

TEST(TelemetryColumns, EveryAnalysedColumnRoundTripsThroughTheReader) {
  ScratchDir scratch;
  const auto batch = every_column_batch();
  { telemetry::TelemetryStore(scratch / "telemetry.db").write(batch); }
  const auto run = analysis::read_run(scratch.path());
  for (const auto& [key, value] : batch.meta)
    EXPECT_EQ(run.meta_value(key, "(missing)"), value);
  ASSERT_EQ(run.conditions.size(), 1u);
  const auto& condition = run.conditions[0];
  EXPECT_EQ(condition.name, batch.conditions[0].second);
  expect_analysed(condition.steps, batch.steps, "condition");
  expect_analysed(condition.memory, batch.memory);
  expect_analysed(condition.system, batch.system);
  // step_work becomes work.<name> step columns; files and sensors are summarised.
  for (std::size_t r = 0; r < batch.work.size(); ++r) {
    const auto work = condition.steps["work." + batch.work[r].name];
    EXPECT_EQ(work[r], batch.work[r].value);
    EXPECT_TRUE(std::isnan(work[1 - r]));
  }
  ASSERT_EQ(condition.files.rows(), 2u);
  EXPECT_EQ(condition.files["database_bytes"][0], static_cast<double>(batch.files[0].file.bytes));
  ASSERT_EQ(condition.sensors.rows(), 2u);
  EXPECT_EQ(condition.sensors["value"][1], batch.sensors[1].reading.value);
  EXPECT_EQ(run.sensor_readings, 2u);
}

// ---- Older databases ----

// The schema before `nrmlab watch` added step_work and process (commit 34ec124): the
// pre-registry text up to those two tables, which came last.
std::string schema_before_watch() {
  const std::string all = k_schema_before_registry;
  return all.substr(0, all.find("CREATE TABLE IF NOT EXISTS step_work("));
}

// Twelve steps of condition 0 with memory, side, sensor and file rows, in plain SQL.
void fill_old_database(sqlite::Connection& db) {
  db.execute(
      "INSERT INTO meta VALUES ('schema', 'nrmlab.telemetry/1'), ('outcome', 'complete');"
      "INSERT INTO conditions VALUES (0, 'OFF-OFF');");
  for (int step = 0; step < 12; ++step) {
    db.execute(fmt::format(
        "INSERT INTO steps(condition, step, t_ns, wall_ns, cpu_ns, usage_steps, "
        "involuntary_switches, sampling_ns, window_ns, database_ns, recorder_ns, compute_ns, "
        "agents, evolve_calls, metric_samples, resonance_pairs, clusters_found, pattern_count, "
        "db_transactions, db_rows) VALUES (0, {0}, {0}000, 1000, 900, 0, NULL, 0, 0, 0, 10, 990, "
        "{0}, 1, 1, 0, 0, 3, 0, 0)",
        step));
  }
  db.execute(
      "INSERT INTO memory(condition, step, t_ns, rss_bytes) VALUES (0, 0, 0, 4096), (0, 5, 5000, "
      "8192);"
      "INSERT INTO system(t_ns, condition, step, cpu_percent, memory_percent, load1, "
      "other_cpu_ns) VALUES (0, 0, 0, 10.5, 40, 0.5, 100);"
      "INSERT INTO sensors VALUES (0, 0, 0, 'cpufreq_khz', 'cpu0', 2400000);"
      "INSERT INTO files VALUES (0, 0, 0, 'metrics.db', 4096), (0, 0, 0, 'metrics.db-wal', 10);");
}

TEST(TelemetryColumns, DatabaseFromBeforeWatchStillReads) {
  ScratchDir scratch;
  {
    sqlite::Connection db(scratch / "telemetry.db");
    db.execute(schema_before_watch());
    fill_old_database(db);
  }
  const auto run = analysis::read_run(scratch.path());
  ASSERT_EQ(run.conditions.size(), 1u);
  const auto& c = run.conditions[0];
  EXPECT_EQ(c.steps.rows(), 12u);
  EXPECT_EQ(c.steps["agents"][11], 11.0);
  EXPECT_TRUE(std::isnan(c.steps["involuntary_switches"][3]));
  // runq_ns and the I/O came later still: the analysis gets them as columns, NaN throughout.
  for (const auto* later : {"runq_ns", "io_read_bytes", "io_write_bytes", "io_rchar", "io_wchar",
                            "io_syscr", "io_syscw"}) {
    ASSERT_TRUE(c.steps.has(later)) << later;
    for (const double value : c.steps[later])
      EXPECT_TRUE(std::isnan(value)) << later;
  }
  EXPECT_EQ(c.memory.rows(), 2u);
  EXPECT_EQ(c.memory["rss_bytes"][1], 8192.0);
  EXPECT_TRUE(std::isnan(c.memory["allocated"][1]));
  EXPECT_EQ(c.system["cpu_percent"][0], 10.5);
  EXPECT_EQ(c.files["database_bytes"][0], 4106.0);
  EXPECT_EQ(c.sensors["is_frequency"][0], 1.0);
  for (const auto& name : c.steps.names())
    EXPECT_FALSE(name.starts_with("work.")) << name;

  const auto written = telemetry::export_telemetry(scratch / "telemetry.db", scratch / "export",
                                                   telemetry::ExportFormat::csv);
  EXPECT_EQ(written.size(), 8u);  // no step_work, no process
  EXPECT_FALSE(fs::exists(scratch / "export" / "step_work.csv"));
  const auto steps = read_lines(scratch / "export" / "steps.csv");
  ASSERT_EQ(steps.size(), 13u);
  EXPECT_EQ(steps[12], "0,11,11000,1000,900,0,,,,,,,0,0,0,10,990,,11,1,1,0,,0,3,,,0,0");
}

// The recorded runs of the golden tests predate runq_ns: each reads, every condition with a
// runq_ns step column that is NaN throughout (the analysis says "not recorded").
TEST(TelemetryColumns, RecordedRunsFromBeforeRunQueueDelayReadItAsNaN) {
  int runs = 0;
  for (const auto& entry :
       fs::recursive_directory_iterator(fs::path(NRMLAB_TEST_DATA) / "golden")) {
    if (entry.path().filename() != "telemetry.db") continue;
    ScratchDir scratch;  // a copy: reading may recover a WAL, and fixtures stay as committed
    fs::copy(entry.path(), scratch / "telemetry.db");
    {
      sqlite::Connection db(scratch / "telemetry.db");
      sqlite::Statement columns(db,
                                "SELECT count(*) FROM pragma_table_info('steps') "
                                "WHERE name = 'runq_ns'");
      ASSERT_TRUE(columns.step());
      EXPECT_EQ(columns.column_int(0), 0) << entry.path() << " is not from before runq_ns";
    }
    const auto run = analysis::read_run(scratch.path());
    ASSERT_FALSE(run.conditions.empty()) << entry.path();
    for (const auto& condition : run.conditions) {
      for (const auto* later : {"runq_ns", "io_write_bytes", "io_wchar", "io_syscw"}) {
        ASSERT_TRUE(condition.steps.has(later)) << entry.path() << " " << later;
        const auto values = condition.steps[later];
        EXPECT_EQ(values.size(), condition.steps.rows());
        EXPECT_TRUE(
            std::all_of(values.begin(), values.end(), [](double v) { return std::isnan(v); }))
            << entry.path() << " condition " << condition.name << " " << later;
      }
    }
    EXPECT_EQ(run.meta_value("probe.runq", "(absent)"), "(absent)");
    ++runs;
  }
  EXPECT_GE(runs, 3);  // native, watch and the study's runs
}

// The columns the analysis required before the registry (telemetry_reader.cpp at 2190b65),
// plus those its sensors query read without checking: a database with only these reads.
const std::vector<std::pair<std::string, std::vector<std::string>>> k_required_before = {
    {"meta", {"key", "value"}},
    {"conditions", {"condition", "name"}},
    {"steps",
     {"condition",
      "step",
      "t_ns",
      "wall_ns",
      "cpu_ns",
      "usage_steps",
      "involuntary_switches",
      "sampling_ns",
      "window_ns",
      "database_ns",
      "recorder_ns",
      "compute_ns",
      "agents",
      "evolve_calls",
      "metric_samples",
      "resonance_pairs",
      "clusters_found",
      "pattern_count",
      "db_transactions",
      "db_rows"}},
    {"memory", {"condition", "step", "t_ns", "rss_bytes"}},
    {"system",
     {"condition", "step", "t_ns", "cpu_percent", "memory_percent", "load1", "other_cpu_ns"}},
    {"sensors", {"t_ns", "condition", "step", "kind", "value"}},
    {"files", {"condition", "step", "t_ns", "name", "bytes"}},
};

void create_minimal(const fs::path& path) {
  sqlite::Connection db(path);
  for (const auto& [table, columns] : k_required_before)
    db.execute(fmt::format("CREATE TABLE {}({})", table, fmt::join(columns, ", ")));
  db.execute(
      "INSERT INTO meta VALUES ('schema', 'nrmlab.telemetry/1');"
      "INSERT INTO conditions VALUES (0, 'OFF-OFF');"
      "INSERT INTO memory VALUES (0, 0, 0, 4096);");
  for (int step = 0; step < 3; ++step)
    db.execute(fmt::format(
        "INSERT INTO steps(condition, step, t_ns, wall_ns) VALUES (0, {0}, {0}, 1000)", step));
}

TEST(TelemetryColumns, DatabaseWithOnlyTheRequiredColumnsReads) {
  ScratchDir scratch;
  create_minimal(scratch / "telemetry.db");
  const auto run = analysis::read_run(scratch.path());
  ASSERT_EQ(run.conditions.size(), 1u);
  EXPECT_EQ(run.conditions[0].steps.rows(), 3u);
  EXPECT_EQ(run.conditions[0].memory.names(),
            (std::vector<std::string>{"condition", "step", "t_ns", "rss_bytes"}));
  EXPECT_EQ(run.conditions[0].system.names().size(), 7u);
}

TEST(TelemetryColumns, EachRequiredColumnIsRequired) {
  for (const auto& [table, columns] : k_required_before) {
    for (const auto& column : columns) {
      ScratchDir scratch;
      create_minimal(scratch / "telemetry.db");
      {
        sqlite::Connection db(scratch / "telemetry.db");
        db.execute(fmt::format("ALTER TABLE {} DROP COLUMN {}", table, column));
      }
      try {
        analysis::read_run(scratch.path());
        ADD_FAILURE() << table << "." << column << " missing, yet the run was read";
      } catch (const Error& error) {
        EXPECT_THAT(error.what(), ::testing::HasSubstr(fmt::format("'{}.{}'", table, column)));
      }
    }
  }
}

// ---- Step counters ----

TEST(StepCounterFields, AreTheStepsColumnsAfterTheTimes) {
  const auto& steps = telemetry::telemetry_table("steps");
  const auto& fields = model::k_step_counter_fields;
  const std::size_t later = telemetry::registry::k_step_tail_columns.size();
  const std::size_t first = steps.columns.size() - later - std::size(fields);
  for (std::size_t i = 0; i < std::size(fields); ++i)
    EXPECT_EQ(steps.columns[first + i].name, fields[i].name);
  EXPECT_EQ(steps.columns[first - 1].name, "timer_reads");
}

TEST(StepCounterFields, AddCountersSumsCountsAndKeepsTheLatestLevel) {
  model::StepCounters total, later;
  std::uint64_t value = 1;
  for (const auto& field : model::k_step_counter_fields) {
    total.*field.member = value;
    later.*field.member = 100 * value++;
  }
  const model::StepCounters before = total;
  model::add_counters(total, later);
  for (const auto& field : model::k_step_counter_fields)
    EXPECT_EQ(total.*field.member, field.tally == model::Tally::level
                                       ? later.*field.member
                                       : before.*field.member + later.*field.member)
        << field.name;
  EXPECT_EQ(total.agents_alive, later.agents_alive);
  EXPECT_EQ(total.evolve_calls, before.evolve_calls + later.evolve_calls);
}

TEST(StepCounterFields, TheCostModelChargesTheWorkCounters) {
  // Every counter varies independently, so the cost model keeps each one it considers.
  std::vector<std::string> names = {"step", "wall_ns"};
  for (const auto& field : model::k_step_counter_fields)
    names.emplace_back(field.name);
  analysis::ConditionData condition;
  condition.name = "OFF-OFF";
  condition.steps = analysis::Columns(names);
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> uniform(0.0, 100.0);
  for (int step = 0; step < 200; ++step) {
    std::vector<double> row = {static_cast<double>(step), 0.0};
    for (std::size_t i = 2; i < names.size(); ++i) {
      row.push_back(uniform(rng));
      row[1] += row.back() * static_cast<double>(i);
    }
    condition.steps.append_row(row);
  }
  const auto model = analysis::fit_cost_model(condition, analysis::Thresholds{});
  std::vector<std::string> charged;
  for (const auto& term : model.terms)
    charged.push_back(term.counter);
  EXPECT_EQ(charged, (std::vector<std::string>{"per_step", "agents", "evolve_calls",
                                               "metric_samples", "resonance_pairs",
                                               "clusters_found", "db_transactions", "db_rows"}));
}

}  // namespace
}  // namespace nrmlab::testing
