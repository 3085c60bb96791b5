// SPDX-License-Identifier: Apache-2.0
#pragma once
// postgres_store's SQL: the prepared statements (one set per connection) and one function per
// write op. Internal to postgres_store; called under the mutex of the connection used.
// Invariant: statement names are prepared on every connection before its first use
// (prepare_statements), and the SQL matches sqlite_store's statement for statement.

#include <pqxx/connection>
#include <pqxx/transaction_base>

#include "actors/store/detail/pg_message_rows.hpp"
#include "actors/store/store.hpp"

namespace herald::store::detail {

/// Registers every statement below on `conn` (libpqxx prepares each on its first use).
void prepare_statements(pqxx::connection& conn);

/// The SQL of the statement called `name` (one of pg:: below; throws std::logic_error for an
/// unknown name), for a pipeline that sends it as text.
std::string statement_sql(const char* name);

/// Runs one op inside the transaction open on `tx`'s connection. Logical failures (not_found
/// of an update) are the returned error; SQL failures throw libpqxx exceptions.
result<void> run_op(pqxx::transaction_base& tx, const write_batch::op& op);

/// Runs a sequence of ops (a writer round, or one batch under its savepoint) in order inside
/// the transaction open on `tx`'s connection, merging each run of consecutive insert_message
/// ops into one multi-row statement (pg_message_rows): the effect is that of run_op on each op
/// in turn, in far fewer round trips. Owned by one group commit; same thread as `tx`.
class op_sequence {
public:
  explicit op_sequence(pqxx::transaction_base& tx) : tx_(tx) {}

  /// Runs `op`, or defers it when it is an insert_message (it runs before the next other op,
  /// or in finish()). Logical failures of `op` are returned; SQL failures throw libpqxx
  /// exceptions, possibly those of deferred rows.
  result<void> run(const write_batch::op& op);
  /// Runs the deferred rows; call it before a savepoint is released or the commit.
  void finish() { messages_.flush(tx_); }

private:
  pqxx::transaction_base& tx_;
  pg_message_rows messages_;
};

/// Bytes as lowercase hex text and back: binary values (feature state, tail events) travel as hex
/// text parameters and results, since libpq's text parameters cannot hold NUL bytes.
std::string hex_of(const std::string& bytes);
std::string bytes_of_hex(const std::string& hex);

/// Space-separated decimal ids, as stored in the mentions columns (both backends).
std::string join_ids(const std::vector<snowflake>& ids);
std::vector<snowflake> split_ids(const std::string& text);

namespace pg {
// Statement names (writes of many rows).
constexpr const char* insert_messages = "insert_messages";
// Statement names (reads).
constexpr const char* select_guild = "select_guild";
constexpr const char* select_roles = "select_roles";
constexpr const char* select_channels = "select_channels";
constexpr const char* select_overwrites = "select_overwrites";
constexpr const char* select_members = "select_members";
constexpr const char* select_member_roles = "select_member_roles";
constexpr const char* list_guilds = "list_guilds";
constexpr const char* guilds_of_user = "guilds_of_user";
constexpr const char* select_user = "select_user";
constexpr const char* select_message = "select_message";
constexpr const char* recent_messages = "recent_messages";
constexpr const char* guild_of_channel = "guild_of_channel";
constexpr const char* select_token_epoch = "select_token_epoch";
constexpr const char* select_feature_state = "select_feature_state";
constexpr const char* bump_token_epoch = "bump_token_epoch";
// Guild owners (detail/pg_owners.hpp).
constexpr const char* claim_guild = "claim_guild";
constexpr const char* select_owner = "select_owner";
constexpr const char* record_order = "record_order";
constexpr const char* record_orders = "record_orders";
// The event tail (detail/pg_owners.hpp).
constexpr const char* upsert_tail = "upsert_tail";
constexpr const char* select_tail = "select_tail";
constexpr const char* select_tail_head = "select_tail_head";
}  // namespace pg

}  // namespace herald::store::detail
