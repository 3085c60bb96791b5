// SPDX-License-Identifier: Apache-2.0
#pragma once
// One of sqlite_store's connections (the writer or the reader) and its prepared-statement cache.
// Owned by one sqlite_store; used only under the mutex that store keeps for this connection.
// Invariant: every statement is prepared on db_ and finalized before db_ closes.

#include <sqlite3.h>

#include <array>
#include <cstddef>
#include <memory>
#include <optional>

#include "actors/store/detail/sqlite_db.hpp"
#include "actors/store/sqlite_store.hpp"

namespace herald::store {

struct sqlite_store::impl {
  ~impl();

  /// Prepares every statement below; called once after migrations.
  result<void> prepare_all();
  /// Runs one op inside the open transaction.
  result<void> run(const write_batch::op& op);

  /// Most rows of one multi-row message INSERT (11 parameters a row).
  static constexpr std::size_t max_message_rows = 32;
  /// Inside the open transaction: the insert_message ops of `count` batches (every op of them
  /// an insert_message; `rows` of them in all, 1..max_message_rows) as ONE statement, so all
  /// or none of their rows are written.
  result<void> insert_messages(const write_batch* const* batches, std::size_t count,
                               std::size_t rows);

  /// Inside the open transaction (which holds the file's write lock, so the epoch cannot move
  /// until it ends): ok when `batch` has no fence or its epoch is still the guild's, else
  /// `fenced` (sqlite_store_owners.cpp).
  result<void> check_fence(const write_batch& batch);
  /// Inside the open transaction, after the batch's ops succeeded: the fence's last_order_
  /// becomes the guild's and the batch's tail events are written. No-op without a fence.
  result<void> record_fence(const write_batch& batch);
  /// Reads the guild's owner row; nullopt when it has none.
  result<std::optional<guild_owner>> read_owner(snowflake guild_id);

  sqlite3* db_ = nullptr;

  // Finalized by their destructors after ~impl's body has called
  // sqlite3_close_v2, which defers the real close until the last one is gone.
  detail::statement begin_, commit_, rollback_;
  // Group commit (apply_group): one savepoint per batch, named `batch`.
  detail::statement savepoint_, release_, rollback_to_;
  detail::statement upsert_user_, upsert_guild_, upsert_role_, upsert_channel_;
  detail::statement delete_overwrites_, insert_overwrite_;
  detail::statement upsert_member_, delete_member_roles_, insert_member_role_;
  detail::statement delete_role_, delete_role_from_members_, delete_role_overwrites_;
  detail::statement delete_channel_, delete_member_;
  detail::statement insert_message_, update_message_, delete_message_;
  detail::statement select_guild_, select_roles_, select_channels_, select_overwrites_;
  detail::statement select_members_, select_member_roles_;
  detail::statement list_guilds_, guilds_of_user_, select_user_;
  detail::statement select_message_, recent_messages_;
  detail::statement guild_of_channel_, select_token_epoch_, bump_token_epoch_;
  // insert_messages_[n]: the INSERT of n rows, prepared on first use (writer connection only).
  std::array<std::unique_ptr<detail::statement>, max_message_rows + 1> insert_messages_;
  detail::statement put_feature_state_, erase_feature_state_, erase_feature_prefix_;
  detail::statement select_feature_state_;
  // Guild owners (sqlite_store_owners.cpp).
  detail::statement claim_guild_, select_owner_, record_order_;
  detail::statement upsert_tail_, select_tail_, select_tail_head_;
};

}  // namespace herald::store
