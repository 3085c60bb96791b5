// SPDX-License-Identifier: Apache-2.0
#include "actors/store/detail/sqlite_db.hpp"

namespace herald::store::detail {

store_error sqlite_error(sqlite3* db, int rc, std::string_view what) {
  store_error error;
  switch (rc & 0xff) {  // primary code; extended codes keep it in the low byte
    case SQLITE_NOTADB:
      error.code_ = store_errc::not_a_database;
      break;
    case SQLITE_CORRUPT:
    case SQLITE_FORMAT:
      error.code_ = store_errc::corrupt;
      break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      error.code_ = store_errc::busy;
      break;
    case SQLITE_CONSTRAINT:
      error.code_ = store_errc::constraint;
      break;
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_PERM:
      error.code_ = store_errc::io_error;
      break;
    default:
      error.code_ = store_errc::internal;
      break;
  }
  error.message_ = std::string(what) + ": " + sqlite3_errstr(rc);
  if (db != nullptr && sqlite3_errcode(db) == rc) {
    error.message_ += std::string(" (") + sqlite3_errmsg(db) + ")";
  }
  return error;
}

result<void> exec(sqlite3* db, const char* sql, std::string_view what) {
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    return sqlite_error(db, rc, what);
  }
  return {};
}

statement::~statement() {
  sqlite3_finalize(stmt_);  // no-op on nullptr
}

result<void> statement::prepare(sqlite3* db, const char* sql) {
  db_ = db;
  const int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK) {
    return sqlite_error(db, rc, std::string("prepare ") + sql);
  }
  return {};
}

statement& statement::start() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  return *this;
}

statement& statement::bind(int index, std::int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

statement& statement::bind_id(int index, std::uint64_t value) {
  // Snowflakes and permission bitfields are uint64; SQLite integers are
  // int64. The cast keeps every bit; ids stay below 2^63 until 2084, so their
  // SQL order is their numeric order.
  sqlite3_bind_int64(stmt_, index, static_cast<sqlite3_int64>(value));
  return *this;
}

statement& statement::bind(int index, std::string_view value) {
  sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  return *this;
}

result<bool> statement::step(std::string_view what) {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc == SQLITE_DONE) {
    return false;
  }
  auto error = sqlite_error(db_, rc, what);
  sqlite3_reset(stmt_);
  return error;
}

void statement::finish() {
  sqlite3_reset(stmt_);
}

result<int> statement::run(std::string_view what) {
  for (;;) {
    auto row = step(what);
    if (!row) {
      return row.error();
    }
    if (!row.value()) {
      break;
    }
  }
  const int changes = sqlite3_changes(db_);
  sqlite3_reset(stmt_);
  return changes;
}

std::int64_t statement::column_int(int index) const {
  return sqlite3_column_int64(stmt_, index);
}

std::uint64_t statement::column_id(int index) const {
  return static_cast<std::uint64_t>(sqlite3_column_int64(stmt_, index));
}

std::string statement::column_text(int index) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, index));
  const int size = sqlite3_column_bytes(stmt_, index);
  return text != nullptr ? std::string(text, static_cast<std::size_t>(size)) : std::string();
}

}  // namespace herald::store::detail
