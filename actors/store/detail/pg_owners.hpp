// SPDX-License-Identifier: Apache-2.0
#pragma once
// postgres_store's guild owners: the claim, the owner row, and the fence every guild batch
// carries (docs/store.md, "Guild owners and fencing"). Internal to postgres_store; called on the
// writer connection under its mutex (the owner row read: on a leased reader).
// Invariant: a fence and the writes of its batch are in one transaction, and the fence's UPDATE
// holds the guild's owner row locked until that transaction ends, so a claim either committed
// before it (the batch is fenced) or waits for it (the claim sees its last order).

#include <optional>
#include <vector>

#include <pqxx/connection>
#include <pqxx/transaction_base>

#include "actors/store/store.hpp"

namespace herald::store::detail {

/// Claims every guild of `guild_ids` for `node_id` in one transaction (see store::claim_guilds):
/// a guild without a row gets not_found alone. Throws libpqxx exceptions (the commit's as
/// in_doubt, commit_or_in_doubt).
std::vector<result<guild_owner>> pg_claim_guilds(pqxx::connection& conn,
                                                 const std::vector<snowflake>& guild_ids,
                                                 std::uint64_t node_id);

/// The guild's owner row, nullopt when it was never claimed.
std::optional<guild_owner> pg_read_owner(pqxx::transaction_base& tx, snowflake guild_id);

/// Inside the open transaction: the fences of every batch of a round in one statement. Sets
/// fenced[i] for each batch whose epoch is no longer its guild's (nothing of it may be written);
/// the others' last orders are recorded and their tail events written (one statement). Throws
/// libpqxx exceptions.
void pg_record_fences(pqxx::transaction_base& tx, const std::vector<const write_batch*>& batches,
                      std::vector<std::optional<store_error>>& fenced);

/// Inside the open transaction (a batch's savepoint): the fence of one batch; `fenced` when its
/// epoch is no longer its guild's, else its tail events are written. Ok without a fence.
result<void> pg_record_fence(pqxx::transaction_base& tx, const write_batch& batch);

/// The guild's tail events after (after_epoch, after_order), ascending (store::read_tail).
std::vector<tail_event> pg_read_tail(pqxx::transaction_base& tx, snowflake guild_id,
                                     std::uint64_t after_epoch, std::uint64_t after_order);
/// The guild's newest tail event without its bytes (store::tail_head).
std::optional<tail_event> pg_tail_head(pqxx::transaction_base& tx, snowflake guild_id);

}  // namespace herald::store::detail
