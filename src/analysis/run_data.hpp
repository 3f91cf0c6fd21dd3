// What the analysis reads: the telemetry of one run (telemetry.db, and result.json when
// present), held as named columns per condition. Columns are doubles so every statistic
// can take them as spans; an absent value (SQL NULL) is NaN.
#pragma once

#include <cmath>
#include <cstddef>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace nrmlab::analysis {

// Rows of one table as named columns, all the same length.
class Columns {
 public:
  Columns() = default;
  explicit Columns(std::vector<std::string> names);

  std::size_t rows() const { return m_columns.empty() ? 0 : m_columns.front().size(); }
  bool has(const std::string& name) const;
  // Throws std::out_of_range naming the column when it does not exist.
  std::span<const double> operator[](const std::string& name) const;
  const std::vector<std::string>& names() const { return m_names; }

  void append_row(std::span<const double> values);
  void reserve(std::size_t rows);
  // Reorders the rows by one column, stably (a no-op when they are already in order).
  void sort_by(const std::string& name);
  // Removes the rows where `name` is NaN (absent); returns how many.
  std::size_t erase_rows_without(const std::string& name);
  // Removes the first row (there must be one).
  void erase_first_row();
  // Adds a column of rows() values (throws std::invalid_argument for another length).
  void add_column(std::string name, std::vector<double> values);

 private:
  std::vector<std::string> m_names;
  std::vector<std::vector<double>> m_columns;
};

// One condition of a run: its steps in step order and the streams sampled during it.
struct ConditionData {
  int index = 0;  // canonical: 0 OFF-OFF, 1 ON-OFF, 2 OFF-ON, 3 ON-ON
  std::string name;
  Columns steps;    // every column of the steps table
  Columns memory;   // the memory table (allocator statistics, RSS) on its cadence
  Columns system;   // the side stream sampled while this condition ran
  Columns files;    // t_ns, step, database_bytes (sum of the faithful databases and WALs)
  Columns sensors;  // t_ns, step, is_frequency (1 cpufreq_khz, 0 temperature_c), value
};

struct RunData {
  std::filesystem::path dir;
  std::string id;  // the directory's name
  std::map<std::string, std::string> meta;
  std::vector<ConditionData> conditions;  // in run order
  std::size_t sensor_readings = 0;        // rows of the sensors table
  std::size_t steps_without_time = 0;     // step rows left out: their wall_ns was NULL
  // A watched program's first marker ends a step that began when the program started: it
  // holds the start-up (interpreter, imports, set-up), not one step's work, so it is left
  // out of every statistic (read_run) and its wall time kept here (NaN: none left out).
  double startup_ns = std::nan("");
  std::optional<nlohmann::json> result;  // result.json, when present and readable

  std::string meta_value(const std::string& key, const std::string& fallback = "") const;
  std::size_t total_steps() const;
};

}  // namespace nrmlab::analysis
