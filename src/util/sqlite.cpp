#include "util/sqlite.hpp"

#include <fmt/format.h>

#include <utility>

#include "util/error.hpp"

namespace nrmlab::sqlite {

Connection::Connection(const std::filesystem::path& path, Threading threading) : m_path(path) {
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                    (threading == Threading::confined ? SQLITE_OPEN_NOMUTEX : 0);
  const int code = sqlite3_open_v2(path.c_str(), &m_db, flags, nullptr);
  if (code != SQLITE_OK) {
    // A failed open still allocates a handle, and the destructor will not run: fail() reads
    // its message, so close it only after building the error.
    try {
      fail(code, "open");
    } catch (...) {
      sqlite3_close_v2(m_db);
      m_db = nullptr;
      throw;
    }
  }
  // Waiting briefly on a lock beats failing when another connection (the faithful
  // connection-per-write pattern opens many) is mid-commit.
  sqlite3_busy_timeout(m_db, 5000);
}

Connection::~Connection() {
  if (m_db != nullptr) sqlite3_close_v2(m_db);
}

Connection::Connection(Connection&& other) noexcept
    : m_path(std::move(other.m_path)), m_db(std::exchange(other.m_db, nullptr)) {}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    if (m_db != nullptr) sqlite3_close_v2(m_db);
    m_path = std::move(other.m_path);
    m_db = std::exchange(other.m_db, nullptr);
  }
  return *this;
}

void Connection::fail(int code, std::string_view action) const {
  const char* detail = m_db != nullptr ? sqlite3_errmsg(m_db) : sqlite3_errstr(code);
  std::string hint;
  if ((code & 0xff) == SQLITE_FULL) hint = " (the disk or file system is full)";
  if ((code & 0xff) == SQLITE_READONLY || (code & 0xff) == SQLITE_CANTOPEN)
    hint = " (is the directory writable?)";
  throw Error(fmt::format("database {}: {} failed: {}{}", m_path.string(), action, detail, hint));
}

void Connection::execute(std::string_view sql) {
  char* message = nullptr;
  const std::string text(sql);
  const int code = sqlite3_exec(m_db, text.c_str(), nullptr, nullptr, &message);
  if (code != SQLITE_OK) {
    const std::string detail = message != nullptr ? message : sqlite3_errstr(code);
    sqlite3_free(message);
    std::string hint = (code & 0xff) == SQLITE_FULL ? " (the disk or file system is full)" : "";
    throw Error(fmt::format("database {}: '{}' failed: {}{}", m_path.string(), text, detail, hint));
  }
}

Statement Connection::prepare(std::string_view sql) {
  return Statement(*this, sql);
}

Statement::Statement(Connection& connection, std::string_view sql) : m_connection(&connection) {
  const int code = sqlite3_prepare_v2(connection.handle(), sql.data(), static_cast<int>(sql.size()),
                                      &m_stmt, nullptr);
  if (code != SQLITE_OK) connection.fail(code, fmt::format("preparing '{}'", sql));
}

Statement::~Statement() {
  if (m_stmt != nullptr) sqlite3_finalize(m_stmt);
}

Statement::Statement(Statement&& other) noexcept
    : m_connection(other.m_connection), m_stmt(std::exchange(other.m_stmt, nullptr)) {}

Statement& Statement::bind(int index, double value) {
  const int code = sqlite3_bind_double(m_stmt, index, value);
  if (code != SQLITE_OK) m_connection->fail(code, "bind");
  return *this;
}

Statement& Statement::bind(int index, std::int64_t value) {
  const int code = sqlite3_bind_int64(m_stmt, index, value);
  if (code != SQLITE_OK) m_connection->fail(code, "bind");
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  const int code = sqlite3_bind_text(m_stmt, index, value.data(), static_cast<int>(value.size()),
                                     SQLITE_TRANSIENT);
  if (code != SQLITE_OK) m_connection->fail(code, "bind");
  return *this;
}

Statement& Statement::bind_borrowed(int index, std::string_view value) {
  const int code =
      sqlite3_bind_text(m_stmt, index, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
  if (code != SQLITE_OK) m_connection->fail(code, "bind");
  return *this;
}

bool Statement::step() {
  const int code = sqlite3_step(m_stmt);
  if (code == SQLITE_ROW) return true;
  if (code == SQLITE_DONE) return false;
  sqlite3_reset(m_stmt);
  m_connection->fail(code, fmt::format("executing '{}'", sqlite3_sql(m_stmt)));
}

void Statement::run() {
  while (step()) {
  }
  reset();
}

void Statement::run_keeping_bindings() {
  while (step()) {
  }
  sqlite3_reset(m_stmt);
}

void Statement::reset() {
  sqlite3_reset(m_stmt);
  sqlite3_clear_bindings(m_stmt);
}

std::int64_t Statement::column_int(int index) const {
  return sqlite3_column_int64(m_stmt, index);
}

double Statement::column_double(int index) const {
  return sqlite3_column_double(m_stmt, index);
}

std::string Statement::column_text(int index) const {
  const auto* text = sqlite3_column_text(m_stmt, index);
  return text != nullptr ? reinterpret_cast<const char*>(text) : "";
}

std::int64_t query_int(Connection& connection, std::string_view sql) {
  Statement statement(connection, sql);
  if (!statement.step()) throw Error(fmt::format("query '{}' returned no row", sql));
  return statement.column_int(0);
}

bool has_table(Connection& connection, std::string_view name) {
  Statement statement(connection,
                      "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?");
  statement.bind(1, name);
  return statement.step() && statement.column_int(0) > 0;
}

}  // namespace nrmlab::sqlite
