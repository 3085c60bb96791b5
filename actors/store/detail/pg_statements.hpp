// SPDX-License-Identifier: Apache-2.0
#pragma once
// postgres_store's SQL: the prepared statements (one set per connection) and one function per
// write op. Internal to postgres_store; called under the mutex of the connection used.
// Invariant: statement names are prepared on every connection before its first use
// (prepare_statements), and the SQL matches sqlite_store's statement for statement.

#include <pqxx/connection>
#include <pqxx/transaction_base>

#include "actors/store/store.hpp"

namespace herald::store::detail {

/// Registers every statement below on `conn` (libpqxx prepares each on its first use).
void prepare_statements(pqxx::connection& conn);

/// Runs one op inside the transaction open on `tx`'s connection. Logical failures (not_found
/// of an update) are the returned error; SQL failures throw libpqxx exceptions.
result<void> run_op(pqxx::transaction_base& tx, const write_batch::op& op);

/// Space-separated decimal ids, as stored in the mentions columns (both backends).
std::string join_ids(const std::vector<snowflake>& ids);
std::vector<snowflake> split_ids(const std::string& text);

namespace pg {
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
}  // namespace pg

}  // namespace herald::store::detail
