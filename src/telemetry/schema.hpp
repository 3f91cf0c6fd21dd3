// telemetry.db's schema as data: every table and column, with what the analysis needs of it.
// The columns themselves are declared once, in the registry (telemetry/columns.hpp); this
// header is the untyped view of it, for code that reads a database rather than rows (the
// analysis reader, the export), and the SQL generated from it.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace nrmlab::telemetry {

inline constexpr const char* k_telemetry_schema_version = "nrmlab.telemetry/1";

enum class SqlType { integer, real, text };

// What the analysis (analysis/telemetry_reader) does with a column.
enum class AnalysisUse {
  required,  // reads it; a database without it is not analysable
  optional,  // reads it when present (an older database may lack it; steps: NaN if absent)
  unread,    // recorded for `nrmlab export` and inspection only
};

struct ColumnSpec {
  std::string_view name;
  SqlType type = SqlType::integer;
  bool nullable = false;  // may be NULL ("not measured"): the row's field is a std::optional
  AnalysisUse use = AnalysisUse::unread;
  std::string_view doc;
};

struct TableSpec {
  std::string_view name;
  std::span<const ColumnSpec> columns;
  std::size_t key_columns = 0;  // the first key_columns columns are the primary key
  // Items (column definitions, then the PRIMARY KEY clause) on each line of the CREATE TABLE
  // text; empty: all on one line. This is the layout of the hand-written schema the registry
  // replaced: SQLite stores the text verbatim in sqlite_master, so keeping it keeps new
  // databases byte-identical to older ones. Items past the layout go on one more line.
  std::span<const std::size_t> layout;
  std::string_view doc;
};

// Every table, in creation order.
std::span<const TableSpec> telemetry_tables();
// The table called `name`; throws nrmlab::Error naming it when there is none.
const TableSpec& telemetry_table(std::string_view name);
// The column called `name`, or nullptr.
const ColumnSpec* find_column(const TableSpec& table, std::string_view name);

// "CREATE TABLE IF NOT EXISTS name(...);"
std::string create_table_sql(const TableSpec& table);
// Every table's CREATE statement, each followed by a newline.
std::string schema_sql();
// "INSERT [OR REPLACE] INTO name(columns) VALUES (?,...)": a keyed table keeps the last row
// written for a key, as it always has; an unkeyed one appends.
std::string insert_sql(const TableSpec& table);

}  // namespace nrmlab::telemetry
