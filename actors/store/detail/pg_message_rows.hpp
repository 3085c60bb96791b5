// SPDX-License-Identifier: Apache-2.0
#pragma once
// A run of insert_message ops as one statement: the rows are collected as PostgreSQL array
// literals, one per column, and inserted by one `INSERT … SELECT FROM unnest($1::bigint[], …)`
// (prepared once per connection as pg::insert_messages). A writer round of N messages then
// costs one round trip and one statement on the server instead of N.
// Owned by one group commit on the writer connection's thread (under its mutex).
// Invariant: the rows go in as the single-row insert_message would write them, in add() order;
// a failure (a duplicate id: unique_violation) fails the whole statement, so the caller's
// transaction or savepoint decides what is rolled back, exactly as with single-row inserts.

#include <cstddef>
#include <string>

#include <pqxx/transaction_base>

#include "actors/store/store.hpp"

namespace herald::store::detail {

class pg_message_rows {
public:
  /// Appends the row of `m`. Error (nothing appended): invalid_argument when its content holds
  /// a NUL byte, which PostgreSQL text cannot store.
  result<void> add(const domain::message& m);
  bool empty() const noexcept { return rows_ == 0; }
  std::size_t size() const noexcept { return rows_; }
  /// Inserts every row added since the last flush in one statement, then forgets them (the
  /// buffers keep their capacity). Throws libpqxx exceptions (constraint, lost connection).
  void flush(pqxx::transaction_base& tx);

  /// The prepared statement flush() runs.
  static const char* sql();

private:
  void clear();

  std::size_t rows_ = 0;
  // One array literal per column, without the closing brace until flush.
  std::string ids_, channel_ids_, guild_ids_, author_ids_, contents_, created_at_, edited_at_,
      deleted_, mentions_, mention_roles_, mention_everyone_;
};

}  // namespace herald::store::detail
