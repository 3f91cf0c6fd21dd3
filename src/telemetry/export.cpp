#include "telemetry/export.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "telemetry/profile/profile_export.hpp"
#include "telemetry/schema.hpp"
#include "util/error.hpp"
#include "util/sqlite.hpp"

namespace nrmlab::telemetry {
namespace {

std::string csv_field(sqlite3_stmt* statement, int column) {
  switch (sqlite3_column_type(statement, column)) {
    case SQLITE_NULL:
      return "";
    case SQLITE_INTEGER:
      return std::to_string(sqlite3_column_int64(statement, column));
    case SQLITE_FLOAT:
      return fmt::format("{}", sqlite3_column_double(statement, column));
    default: {
      std::string text(reinterpret_cast<const char*>(sqlite3_column_text(statement, column)));
      if (text.find_first_of(",\"\n") == std::string::npos) return text;
      std::string quoted = "\"";
      for (const char c : text)
        quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
      return quoted + "\"";
    }
  }
}

nlohmann::ordered_json json_field(sqlite3_stmt* statement, int column) {
  switch (sqlite3_column_type(statement, column)) {
    case SQLITE_NULL:
      return nullptr;
    case SQLITE_INTEGER:
      return sqlite3_column_int64(statement, column);
    case SQLITE_FLOAT:
      return sqlite3_column_double(statement, column);
    default:
      return reinterpret_cast<const char*>(sqlite3_column_text(statement, column));
  }
}

std::vector<std::string> query_names(sqlite::Connection& db, const std::string& sql, int column) {
  std::vector<std::string> names;
  sqlite::Statement query(db, sql);
  while (query.step())
    names.push_back(query.column_text(column));
  return names;
}

// `known` (the registry's names, in its order) that are in `present`, then the rest of
// `present` in its own order: what an older database lacks is left out, and what the
// registry does not know (a newer nrmlab's, or added by hand) is still exported.
std::vector<std::string> registry_order(const std::vector<std::string_view>& known,
                                        const std::vector<std::string>& present) {
  std::vector<std::string> ordered;
  for (const std::string_view name : known)
    if (std::find(present.begin(), present.end(), name) != present.end())
      ordered.emplace_back(name);
  for (const std::string& name : present)
    if (std::find(known.begin(), known.end(), name) == known.end()) ordered.push_back(name);
  return ordered;
}

std::vector<std::string> export_tables(sqlite::Connection& db) {
  std::vector<std::string_view> known;
  for (const TableSpec& table : telemetry_tables())
    known.push_back(table.name);
  return registry_order(
      known,
      query_names(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid", 0));
}

// SELECT of the table's columns in registry order.
std::string export_query(sqlite::Connection& db, const std::string& table) {
  std::vector<std::string_view> known;
  for (const TableSpec& spec : telemetry_tables())
    if (spec.name == table)
      for (const ColumnSpec& column : spec.columns)
        known.push_back(column.name);
  const auto columns =
      registry_order(known, query_names(db, fmt::format("PRAGMA table_info(\"{}\")", table), 1));
  std::vector<std::string> quoted;
  for (const std::string& column : columns)
    quoted.push_back(fmt::format("\"{}\"", column));
  return fmt::format("SELECT {} FROM \"{}\"", fmt::join(quoted, ", "), table);
}

void write_rows(sqlite::Statement& rows, ExportFormat format, std::ostream& out) {
  sqlite3_stmt* raw = rows.handle();
  const int columns = sqlite3_column_count(raw);
  if (format == ExportFormat::csv) {
    for (int c = 0; c < columns; ++c)
      out << (c ? "," : "") << sqlite3_column_name(raw, c);
    out << '\n';
  }
  while (rows.step()) {
    if (format == ExportFormat::csv) {
      for (int c = 0; c < columns; ++c)
        out << (c ? "," : "") << csv_field(raw, c);
      out << '\n';
    } else {
      nlohmann::ordered_json object = nlohmann::ordered_json::object();
      for (int c = 0; c < columns; ++c)
        object[sqlite3_column_name(raw, c)] = json_field(raw, c);
      out << object.dump() << '\n';
    }
  }
}

}  // namespace

std::vector<std::filesystem::path> export_telemetry(const std::filesystem::path& db_path,
                                                    const std::filesystem::path& out_dir,
                                                    ExportFormat format) {
  if (!std::filesystem::exists(db_path))
    throw Error(fmt::format("{} does not exist (is this a run directory?)", db_path.string()));
  if (format == ExportFormat::folded || format == ExportFormat::speedscope) {
    const bool folded = format == ExportFormat::folded;
    const auto path = out_dir / (folded ? "profile.folded" : "profile.speedscope.json");
    profile::export_profile(
        db_path, path,
        folded ? profile::ProfileFormat::folded : profile::ProfileFormat::speedscope);
    return {path};
  }
  sqlite::Connection db(db_path);
  const auto tables = export_tables(db);
  if (std::find(tables.begin(), tables.end(), "steps") == tables.end())
    throw Error(
        fmt::format("{} has no steps table: not an nrmlab telemetry database", db_path.string()));
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) throw Error(fmt::format("cannot create {}: {}", out_dir.string(), ec.message()));

  std::vector<std::filesystem::path> written;
  for (const auto& table : tables) {
    const auto path = out_dir / (table + (format == ExportFormat::csv ? ".csv" : ".jsonl"));
    std::ofstream out(path);
    if (!out) throw Error(fmt::format("cannot write {}", path.string()));
    sqlite::Statement rows(db, export_query(db, table));
    write_rows(rows, format, out);
    out.flush();
    if (!out) throw Error(fmt::format("cannot write {}", path.string()));
    written.push_back(path);
  }
  return written;
}

}  // namespace nrmlab::telemetry
