#include "telemetry/schema.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <tuple>
#include <vector>

#include "telemetry/columns.hpp"
#include "util/error.hpp"

namespace nrmlab::telemetry {
namespace {

constexpr auto k_table_specs =
    std::apply([](const auto*... tables) { return std::array{tables->spec...}; }, k_tables);

const char* type_name(SqlType type) {
  switch (type) {
    case SqlType::integer:
      return "INTEGER";
    case SqlType::real:
      return "REAL";
    case SqlType::text:
      return "TEXT";
  }
  return "";
}

// The column definitions, then the table's PRIMARY KEY clause when the key has several
// columns (a single key column is declared on the column, so an INTEGER one is the rowid).
std::vector<std::string> definition_items(const TableSpec& table) {
  std::vector<std::string> items;
  std::vector<std::string_view> key;
  for (std::size_t i = 0; i < table.columns.size(); ++i) {
    const ColumnSpec& column = table.columns[i];
    const bool single_key = table.key_columns == 1 && i == 0;
    items.push_back(fmt::format("{} {}{}", column.name, type_name(column.type),
                                single_key ? " PRIMARY KEY" : ""));
    if (i < table.key_columns) key.push_back(column.name);
  }
  if (table.key_columns > 1) items.push_back(fmt::format("PRIMARY KEY({})", fmt::join(key, ", ")));
  return items;
}

}  // namespace

std::span<const TableSpec> telemetry_tables() {
  return k_table_specs;
}

const TableSpec& telemetry_table(std::string_view name) {
  for (const TableSpec& table : k_table_specs)
    if (table.name == name) return table;
  throw Error(
      fmt::format("telemetry schema {} has no table '{}'", k_telemetry_schema_version, name));
}

const ColumnSpec* find_column(const TableSpec& table, std::string_view name) {
  const auto found = std::find_if(table.columns.begin(), table.columns.end(),
                                  [&](const ColumnSpec& column) { return column.name == name; });
  return found == table.columns.end() ? nullptr : &*found;
}

std::string create_table_sql(const TableSpec& table) {
  const auto items = definition_items(table);
  std::string sql = fmt::format("CREATE TABLE IF NOT EXISTS {}(", table.name);
  if (table.layout.empty()) return sql + fmt::format("{});", fmt::join(items, ", "));
  std::vector<std::string> lines;
  auto next = items.begin();
  for (const std::size_t count : table.layout) {
    const auto end = next + static_cast<std::ptrdiff_t>(std::min<std::size_t>(
                                count, static_cast<std::size_t>(items.end() - next)));
    if (next == end) break;
    lines.push_back(fmt::format("{}", fmt::join(next, end, ", ")));
    next = end;
  }
  if (next != items.end()) lines.push_back(fmt::format("{}", fmt::join(next, items.end(), ", ")));
  return sql + fmt::format("\n  {});", fmt::join(lines, ",\n  "));
}

std::string schema_sql() {
  std::string sql;
  for (const TableSpec& table : k_table_specs)
    sql += create_table_sql(table) + "\n";
  return sql;
}

std::string insert_sql(const TableSpec& table) {
  std::vector<std::string_view> names;
  std::string placeholders;
  for (const ColumnSpec& column : table.columns) {
    placeholders += names.empty() ? "?" : ",?";
    names.push_back(column.name);
  }
  return fmt::format("INSERT {}INTO {}({}) VALUES ({})", table.key_columns ? "OR REPLACE " : "",
                     table.name, fmt::join(names, ", "), placeholders);
}

}  // namespace nrmlab::telemetry
