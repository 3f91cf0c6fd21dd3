// A thin RAII layer over the SQLite C API: a connection, a prepared statement, and errors
// that say which database and which statement failed (a full disk must read as such).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace nrmlab::sqlite {

class Statement;

class Connection {
 public:
  // `confined`: the connection is used by one thread at a time, so SQLite need not lock a
  // mutex on every call (a sixth of the cost of reading a million rows column by column).
  enum class Threading { shared, confined };
  // Opens (creating if needed) the database file at `path`.
  explicit Connection(const std::filesystem::path& path, Threading threading = Threading::shared);
  ~Connection();
  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&& other) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more statements that return no rows of interest (DDL, PRAGMA, BEGIN...).
  void execute(std::string_view sql);
  Statement prepare(std::string_view sql);

  sqlite3* handle() const { return m_db; }
  const std::filesystem::path& path() const { return m_path; }

  // Throws nrmlab::Error naming the file, the action and SQLite's own message.
  [[noreturn]] void fail(int code, std::string_view action) const;

 private:
  std::filesystem::path m_path;
  sqlite3* m_db = nullptr;
};

class Statement {
 public:
  Statement(Connection& connection, std::string_view sql);
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters are 1-based, as in SQLite.
  Statement& bind(int index, double value);
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, std::string_view value);
  // Binds text SQLite reads in place instead of copying: `value` must stay unchanged until
  // the statement has run (a bulk writer binds thousands of texts per statement).
  Statement& bind_borrowed(int index, std::string_view value);

  // Steps once; returns true while a row is available.
  bool step();
  // Steps a statement that produces no rows, then resets it for reuse.
  void run();
  // run() without clearing the bindings, for a statement whose every parameter is bound
  // again before it next runs (clearing thousands of them would be wasted work).
  void run_keeping_bindings();
  void reset();

  sqlite3_stmt* handle() const { return m_stmt; }
  std::int64_t column_int(int index) const;
  double column_double(int index) const;
  std::string column_text(int index) const;

 private:
  Connection* m_connection;
  sqlite3_stmt* m_stmt = nullptr;
};

// Convenience: the single integer a query such as "SELECT count(*) ..." returns.
std::int64_t query_int(Connection& connection, std::string_view sql);

// Whether the database has a table called `name` (an older schema may lack one).
bool has_table(Connection& connection, std::string_view name);

}  // namespace nrmlab::sqlite
