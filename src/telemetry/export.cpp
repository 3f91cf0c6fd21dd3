#include "telemetry/export.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

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

}  // namespace

std::vector<std::filesystem::path> export_telemetry(const std::filesystem::path& db_path,
                                                    const std::filesystem::path& out_dir,
                                                    ExportFormat format) {
  if (!std::filesystem::exists(db_path))
    throw Error(fmt::format("{} does not exist (is this a run directory?)", db_path.string()));
  sqlite::Connection db(db_path);
  std::vector<std::string> tables;
  {
    sqlite::Statement list(db,
                           "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid");
    while (list.step())
      tables.push_back(list.column_text(0));
  }
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
    sqlite::Statement rows(db, fmt::format("SELECT * FROM \"{}\"", table));
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
    out.flush();
    if (!out) throw Error(fmt::format("cannot write {}", path.string()));
    written.push_back(path);
  }
  return written;
}

}  // namespace nrmlab::telemetry
