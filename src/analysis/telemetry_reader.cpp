#include "analysis/telemetry_reader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <numeric>
#include <set>
#include <stdexcept>

#include "study/run_status.hpp"
#include "telemetry/schema.hpp"
#include "util/error.hpp"
#include "util/sqlite.hpp"

namespace nrmlab::analysis {
namespace {

namespace fs = std::filesystem;
constexpr double k_absent = std::numeric_limits<double>::quiet_NaN();

std::vector<std::string> table_columns(sqlite::Connection& db, std::string_view table) {
  std::vector<std::string> names;
  sqlite::Statement info(db, fmt::format("PRAGMA table_info({})", table));
  while (info.step())
    names.push_back(info.column_text(1));
  return names;
}

bool contains(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Checks every column the registry marks required (and so its table), reporting all that
// are missing at once. Tables without a required column may be absent (older databases).
void check_schema(sqlite::Connection& db, const fs::path& path) {
  std::vector<std::string> missing;
  for (const telemetry::TableSpec& table : telemetry::telemetry_tables()) {
    std::vector<std::string_view> required;
    for (const telemetry::ColumnSpec& column : table.columns)
      if (column.use == telemetry::AnalysisUse::required) required.push_back(column.name);
    if (required.empty()) continue;
    const auto present = table_columns(db, table.name);
    if (present.empty()) {
      missing.push_back(fmt::format("table '{}'", table.name));
      continue;
    }
    for (const std::string_view column : required)
      if (!contains(present, column))
        missing.push_back(fmt::format("column '{}.{}'", table.name, column));
  }
  if (!missing.empty())
    throw Error(fmt::format("{}: not a complete nrmlab telemetry database (schema {}): missing {}",
                            path.string(), telemetry::k_telemetry_schema_version,
                            fmt::join(missing, ", ")));
}

// The columns of `table` the analysis reads (required, and optional ones this database
// has), in table order. Reading costs ~50 ns per value and a million steps have 29 million
// of them, so the columns no analysis uses are left out.
std::vector<std::string> analysed_columns(sqlite::Connection& db, std::string_view table) {
  const auto present = table_columns(db, table);
  std::vector<std::string> names;
  for (const telemetry::ColumnSpec& column : telemetry::telemetry_table(table).columns)
    if (column.use != telemetry::AnalysisUse::unread && contains(present, column.name))
      names.emplace_back(column.name);
  return names;
}

// The steps table's columns the analysis reads, optional ones included whether or not this
// database has them: a step column an older database predates (runq_ns) reads as all NaN,
// so the analysis tells "not recorded" by its values rather than by a missing name.
std::vector<std::string> analysed_step_columns() {
  std::vector<std::string> names;
  for (const telemetry::ColumnSpec& column : telemetry::telemetry_table("steps").columns)
    if (column.use != telemetry::AnalysisUse::unread && column.name != "condition")
      names.emplace_back(column.name);
  return names;
}

double column_value(sqlite3_stmt* statement, int index) {
  return sqlite3_column_type(statement, index) == SQLITE_NULL
             ? k_absent
             : sqlite3_column_double(statement, index);
}

// Reads `SELECT <columns> FROM table` into one Columns per condition index, each ordered by
// the column `key`.
std::map<int, Columns> read_by_condition(sqlite::Connection& db, const std::string& table,
                                         const std::vector<std::string>& columns,
                                         const std::string& key) {
  const auto present = table_columns(db, table);
  std::string select = "condition";
  for (const auto& column : columns)
    select += contains(present, column) ? ", " + column : ", NULL";
  // Rows are stored in the order the recorder wrote them, which is already (condition, step)
  // order; reading in storage order avoids an index walk with a table seek per row (most of
  // the reading time on a million steps). The order is checked, and restored if violated.
  sqlite::Statement query(
      db, fmt::format("SELECT {} FROM {} WHERE condition IS NOT NULL", select, table));
  std::map<int, Columns> by_condition;
  std::vector<double> row(columns.size());
  while (query.step()) {
    const int condition = static_cast<int>(query.column_int(0));
    auto [it, inserted] = by_condition.try_emplace(condition, columns);
    for (std::size_t i = 0; i < columns.size(); ++i)
      row[i] = column_value(query.handle(), static_cast<int>(i) + 1);
    it->second.append_row(row);
  }
  for (auto& [condition, rows] : by_condition)
    rows.sort_by(key);
  return by_condition;
}

// Database sizes summed per side sample: the run's own databases and their WAL files. The
// files table also tracks nrmlab's telemetry.db (and its WAL), which grows with every step
// whatever the run does: counting it made H3 testable, and "supported", with persistence off.
std::map<int, Columns> read_file_sizes(sqlite::Connection& db) {
  sqlite::Statement query(db,
                          "SELECT condition, t_ns, step, sum(bytes) FROM files "
                          "WHERE condition IS NOT NULL AND name NOT IN ('telemetry.db', "
                          "'telemetry.db-wal', 'telemetry.db-shm', 'telemetry.db-journal') "
                          "GROUP BY condition, t_ns, step ORDER BY condition, t_ns");
  std::map<int, Columns> by_condition;
  while (query.step()) {
    const int condition = static_cast<int>(query.column_int(0));
    auto [it, inserted] = by_condition.try_emplace(
        condition, std::vector<std::string>{"t_ns", "step", "database_bytes"});
    const double row[] = {column_value(query.handle(), 1), column_value(query.handle(), 2),
                          column_value(query.handle(), 3)};
    it->second.append_row(row);
  }
  return by_condition;
}

std::map<int, Columns> read_sensors(sqlite::Connection& db) {
  sqlite::Statement query(db,
                          "SELECT condition, t_ns, step, kind = 'cpufreq_khz', value FROM sensors "
                          "WHERE condition IS NOT NULL ORDER BY condition, t_ns");
  std::map<int, Columns> by_condition;
  while (query.step()) {
    const int condition = static_cast<int>(query.column_int(0));
    auto [it, inserted] = by_condition.try_emplace(
        condition, std::vector<std::string>{"t_ns", "step", "is_frequency", "value"});
    const double row[] = {column_value(query.handle(), 1), column_value(query.handle(), 2),
                          column_value(query.handle(), 3), column_value(query.handle(), 4)};
    it->second.append_row(row);
  }
  return by_condition;
}

std::optional<nlohmann::json> read_result(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  // A result.json cut short by a crash is not fatal: the telemetry is the primary record.
  auto parsed = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return std::nullopt;
  return parsed;
}

}  // namespace

Columns::Columns(std::vector<std::string> names)
    : m_names(std::move(names)), m_columns(m_names.size()) {}

bool Columns::has(const std::string& name) const {
  return std::find(m_names.begin(), m_names.end(), name) != m_names.end();
}

std::span<const double> Columns::operator[](const std::string& name) const {
  const auto it = std::find(m_names.begin(), m_names.end(), name);
  if (it == m_names.end()) throw std::out_of_range("no column '" + name + "'");
  return m_columns[static_cast<std::size_t>(it - m_names.begin())];
}

void Columns::append_row(std::span<const double> values) {
  if (values.size() != m_columns.size())
    throw std::invalid_argument("Columns::append_row: wrong number of values");
  for (std::size_t i = 0; i < values.size(); ++i)
    m_columns[i].push_back(values[i]);
}

void Columns::sort_by(const std::string& name) {
  const auto key = (*this)[name];
  if (std::is_sorted(key.begin(), key.end())) return;
  std::vector<std::size_t> order(rows());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return key[a] < key[b]; });
  for (auto& column : m_columns) {
    std::vector<double> sorted(column.size());
    for (std::size_t i = 0; i < order.size(); ++i)
      sorted[i] = column[order[i]];
    column = std::move(sorted);
  }
}

std::size_t Columns::erase_rows_without(const std::string& name) {
  const auto key = (*this)[name];
  std::vector<bool> keep(key.size());
  std::size_t erased = 0;
  for (std::size_t i = 0; i < key.size(); ++i) {
    keep[i] = !std::isnan(key[i]);
    erased += !keep[i];
  }
  if (erased == 0) return 0;
  for (auto& column : m_columns) {
    std::size_t out = 0;
    for (std::size_t i = 0; i < column.size(); ++i)
      if (keep[i]) column[out++] = column[i];
    column.resize(out);
  }
  return erased;
}

void Columns::erase_first_row() {
  assert(rows() > 0);
  for (auto& column : m_columns)
    column.erase(column.begin());
}

void Columns::add_column(std::string name, std::vector<double> values) {
  if (!m_names.empty() && values.size() != rows())
    throw std::invalid_argument("Columns::add_column: wrong number of values for " + name);
  m_names.push_back(std::move(name));
  m_columns.push_back(std::move(values));
}

void Columns::reserve(std::size_t rows) {
  for (auto& column : m_columns)
    column.reserve(rows);
}

std::string RunData::meta_value(const std::string& key, const std::string& fallback) const {
  const auto it = meta.find(key);
  return it == meta.end() ? fallback : it->second;
}

std::size_t RunData::total_steps() const {
  std::size_t total = 0;
  for (const auto& condition : conditions)
    total += condition.steps.rows();
  return total;
}

// The work counters a watched program named in its step markers (table step_work, absent
// in older databases) become step columns "work.<name>" (NaN where a step did not name it).
void add_work_counters(sqlite::Connection& db, std::map<int, Columns>& steps) {
  if (!sqlite::has_table(db, "step_work")) return;
  std::map<int, std::map<std::string, std::map<std::int64_t, double>>> work;
  sqlite::Statement rows(db, "SELECT condition, step, name, value FROM step_work");
  while (rows.step())
    work[static_cast<int>(rows.column_int(0))][rows.column_text(2)][rows.column_int(1)] =
        rows.column_double(3);
  for (auto& [index, counters] : work) {
    const auto found = steps.find(index);
    if (found == steps.end()) continue;
    const Columns& old = found->second;
    std::vector<std::string> names = old.names();
    for (const auto& [name, values] : counters)
      names.push_back("work." + name);
    Columns merged(names);
    merged.reserve(old.rows());
    const auto step = old["step"];
    std::vector<double> row(names.size());
    for (std::size_t r = 0; r < old.rows(); ++r) {
      std::size_t c = 0;
      for (const std::string& name : old.names())
        row[c++] = old[name][r];
      for (const auto& [name, values] : counters) {
        const auto value = values.find(static_cast<std::int64_t>(step[r]));
        row[c++] = value != values.end() ? value->second : std::nan("");
      }
      merged.append_row(row);
    }
    found->second = std::move(merged);
  }
}

namespace {

// Reads the meta table into run.meta and checks the schema version it names.
void read_meta(sqlite::Connection& db, const fs::path& path, RunData& run) {
  sqlite::Statement meta(db, "SELECT key, value FROM meta");
  while (meta.step())
    run.meta[meta.column_text(0)] = meta.column_text(1);
  if (const auto schema = run.meta_value("schema"); schema != telemetry::k_telemetry_schema_version)
    throw Error(fmt::format("{}: telemetry schema '{}', expected {}", path.string(),
                            schema.empty() ? "(none in meta)" : schema,
                            telemetry::k_telemetry_schema_version));
}

std::map<int, std::string> condition_names(sqlite::Connection& db) {
  std::map<int, std::string> names;
  sqlite::Statement conditions(db, "SELECT condition, name FROM conditions");
  while (conditions.step())
    names[static_cast<int>(conditions.column_int(0))] = conditions.column_text(1);
  return names;
}

// A run's per-condition tables, each keyed by the condition index.
struct ConditionTables {
  std::map<int, Columns> steps;
  std::vector<std::string> memory_columns;
  std::vector<std::string> system_columns;
  std::map<int, Columns> memory;
  std::map<int, Columns> system;
  std::map<int, Columns> files;
  std::map<int, Columns> sensors;
};

// A watched program's I/O per step (/proc/PID/io, telemetry/step_timeline.hpp) summed into
// io.syscalls (read and write system calls) and io.bytes (bytes through them), which H3
// compares between the attribution's segments (time off the CPU per call). Not work counters
// (cost_model.cpp says why). Absent where the columns are.
void add_io_work(Columns& steps) {
  const auto add_sum = [&](const char* name, const char* a, const char* b) {
    if (!steps.has(a) || !steps.has(b)) return;
    const auto x = steps[a], y = steps[b];
    std::vector<double> sum(x.size());
    for (std::size_t i = 0; i < x.size(); ++i)
      sum[i] = x[i] + y[i];  // NaN where either is absent
    // Telemetry from before the columns reads them as NaN throughout: no I/O was recorded.
    if (std::any_of(sum.begin(), sum.end(), [](double v) { return std::isfinite(v); }))
      steps.add_column(name, std::move(sum));
  };
  add_sum("io.syscalls", "io_syscr", "io_syscw");
  add_sum("io.bytes", "io_rchar", "io_wchar");
}

// A watched program's steps end at its markers and the first began when it started, so the
// first holds the start-up: seconds of imports before a 30 ms step would be read as a
// speed-up (or hide a slowdown) by every trend test. It is left out when more than one step
// remains, and kept as run.startup_ns. Time windows and the engine's steps start with the
// work, and keep their first step.
void leave_out_startup_step(std::map<int, Columns>& steps, RunData& run) {
  if (run.meta_value("step_source") != "markers") return;
  for (auto& [index, columns] : steps) {
    if (columns.rows() < 3 || columns["step"].front() != 0) continue;
    run.startup_ns = columns["wall_ns"].front();
    columns.erase_first_row();
  }
}

// Reads the per-condition tables (and run.sensor_readings); a run without steps is an error.
ConditionTables read_tables(sqlite::Connection& db, const fs::path& path, RunData& run) {
  ConditionTables tables;
  // The condition keys the map rather than being a column.
  tables.steps = read_by_condition(db, "steps", analysed_step_columns(), "step");
  if (tables.steps.empty())
    throw Error(fmt::format("{}: the steps table is empty: the run recorded no step (outcome: {})",
                            path.string(), run.meta_value("outcome", "unknown")));
  add_work_counters(db, tables.steps);
  if (run.meta_value("step_source", "engine") != "engine")
    for (auto& [index, columns] : tables.steps)
      add_io_work(columns);
  // A step without its wall time (a NULL written by a crash mid-row, or a foreign tool) can
  // be placed in no statistic: it is left out and counted, never allowed to stop the
  // analysis of every other step.
  for (auto& [index, columns] : tables.steps)
    run.steps_without_time += columns.erase_rows_without("wall_ns");
  leave_out_startup_step(tables.steps, run);
  tables.memory_columns = analysed_columns(db, "memory");
  tables.system_columns = analysed_columns(db, "system");
  tables.memory = read_by_condition(db, "memory", tables.memory_columns, "step");
  tables.system = read_by_condition(db, "system", tables.system_columns, "t_ns");
  tables.files = read_file_sizes(db);
  tables.sensors = read_sensors(db);
  run.sensor_readings =
      static_cast<std::size_t>(sqlite::query_int(db, "SELECT count(*) FROM sensors"));
  return tables;
}

// One ConditionData per condition with steps, in index order, moving the tables' columns;
// a condition without rows in a side table gets that table's columns, empty.
void add_conditions(ConditionTables& tables, const std::map<int, std::string>& names,
                    RunData& run) {
  for (auto& [index, columns] : tables.steps) {
    ConditionData condition;
    condition.index = index;
    const auto name = names.find(index);
    condition.name = name != names.end() ? name->second : fmt::format("condition {}", index);
    condition.steps = std::move(columns);
    if (auto it = tables.memory.find(index); it != tables.memory.end())
      condition.memory = std::move(it->second);
    else
      condition.memory = Columns(tables.memory_columns);
    if (auto it = tables.system.find(index); it != tables.system.end())
      condition.system = std::move(it->second);
    else
      condition.system = Columns(tables.system_columns);
    if (auto it = tables.files.find(index); it != tables.files.end())
      condition.files = std::move(it->second);
    else
      condition.files = Columns({"t_ns", "step", "database_bytes"});
    if (auto it = tables.sensors.find(index); it != tables.sensors.end())
      condition.sensors = std::move(it->second);
    else
      condition.sensors = Columns({"t_ns", "step", "is_frequency", "value"});
    run.conditions.push_back(std::move(condition));
  }
}

}  // namespace

RunData read_run(const fs::path& run_dir) {
  const fs::path path = run_dir / "telemetry.db";
  if (!fs::exists(run_dir)) throw Error(fmt::format("{}: no such directory", run_dir.string()));
  if (!fs::exists(path))
    throw Error(fmt::format("{}: no telemetry.db here (was the run made with --telemetry off?)",
                            run_dir.string()));
  RunData run;
  run.dir = run_dir;
  run.id = fs::absolute(run_dir).lexically_normal().filename().string();
  if (run.id.empty()) run.id = fs::absolute(run_dir).lexically_normal().parent_path().filename();

  try {
    sqlite::Connection db(path, sqlite::Connection::Threading::confined);
    // Read-only in spirit: nothing is written, but a WAL left by a killed run is recovered.
    check_schema(db, path);
    read_meta(db, path, run);
    const std::map<int, std::string> names = condition_names(db);
    ConditionTables tables = read_tables(db, path, run);
    add_conditions(tables, names, run);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& error) {
    throw Error(fmt::format("{}: cannot read telemetry: {}", path.string(), error.what()));
  }
  // Run order: the order in which the conditions started.
  std::stable_sort(run.conditions.begin(), run.conditions.end(),
                   [](const ConditionData& a, const ConditionData& b) {
                     return a.steps["t_ns"].front() < b.steps["t_ns"].front();
                   });
  run.result = read_result(run_dir / "result.json");
  return run;
}

std::vector<fs::path> find_runs(const fs::path& dir) {
  if (!fs::is_directory(dir)) throw Error(fmt::format("{}: no such directory", dir.string()));
  if (fs::exists(dir / "telemetry.db")) return {dir};
  std::vector<fs::path> runs;
  // In a study directory (it has a manifest) only runs whose status says complete count:
  // failed, interrupted and unfinished runs keep their telemetry for inspection, but their
  // partial series would bias every comparison.
  const bool study = fs::exists(dir / "manifest.json");
  const auto complete = [&](const fs::path& run) {
    const auto status = study::read_status(run);
    return status ? status->state == study::RunState::complete : !study;
  };
  for (const fs::path& parent : {dir / "runs", dir}) {
    if (!fs::is_directory(parent)) continue;
    for (const auto& entry : fs::directory_iterator(parent))
      if (entry.is_directory() && fs::exists(entry.path() / "telemetry.db") &&
          complete(entry.path()))
        runs.push_back(entry.path());
    if (!runs.empty()) break;
  }
  if (runs.empty() && study)
    throw Error(fmt::format("{}: no run of this study is complete (see {}/manifest.json)",
                            dir.string(), dir.string()));
  if (runs.empty())
    throw Error(fmt::format(
        "{}: no telemetry.db here, nor in {}/runs/<id>/ or {}/<id>/ (expected a run or a study "
        "directory)",
        dir.string(), dir.string(), dir.string()));
  std::sort(runs.begin(), runs.end());
  return runs;
}

}  // namespace nrmlab::analysis
