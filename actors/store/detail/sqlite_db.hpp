// SPDX-License-Identifier: Apache-2.0
#pragma once
// Thin RAII helpers over the sqlite3 C API: an owned connection, cached statements, error mapping.
// Internal to sqlite_store; used only under its mutex, on whatever thread holds it.
// Invariant: a statement is reset (and unbound) before it is handed out again.

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "actors/store/result.hpp"

namespace herald::store::detail {

/// Maps an sqlite3 result code (and the connection's message) to a store_error.
store_error sqlite_error(sqlite3* db, int rc, std::string_view what);

/// Runs SQL that returns no rows (DDL, PRAGMA, BEGIN/COMMIT).
result<void> exec(sqlite3* db, const char* sql, std::string_view what);

/// One prepared statement, prepared once (SQLITE_PREPARE_PERSISTENT) and reused.
class statement {
public:
  statement() = default;
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
  ~statement();

  result<void> prepare(sqlite3* db, const char* sql);

  /// Clears bindings and resets; returns *this so calls chain.
  statement& start();
  statement& bind(int index, std::int64_t value);
  statement& bind_id(int index, std::uint64_t value);  ///< uint64 stored bit-for-bit
  statement& bind(int index, std::string_view value);

  /// One step: true when a row is available, false when done; errors mapped.
  result<bool> step(std::string_view what);
  /// Resets after a read so the statement stops pinning a WAL snapshot.
  void finish();
  /// Steps to completion (for writes), then resets; returns sqlite3_changes.
  result<int> run(std::string_view what);

  std::int64_t column_int(int index) const;
  std::uint64_t column_id(int index) const;
  std::string column_text(int index) const;

private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

/// Calls on_row(q) for each row of an already bound query, then resets it.
template <class F>
result<void> each_row(statement& q, std::string_view what, F&& on_row) {
  for (;;) {
    auto row = q.step(what);
    if (!row) {
      return row.error();
    }
    if (!row.value()) {
      break;
    }
    on_row(q);
  }
  q.finish();
  return {};
}

}  // namespace herald::store::detail
