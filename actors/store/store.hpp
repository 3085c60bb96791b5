// SPDX-License-Identifier: Apache-2.0
#pragma once
// The store seam: guild state and messages behind one abstract interface (SQLite now, PostgreSQL
// later). One store object per node, shared by its guild actors; implementations say how they
// serialise calls. Invariant: a write call returns success only once its data is durable, and a
// batch is all-or-nothing.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "actors/domain/guild_state.hpp"
#include "actors/domain/types.hpp"
#include "actors/store/result.hpp"

namespace herald::store {

using domain::snowflake;

/// The writes a store understands, one struct per kind (see write_batch).
namespace write_op {
struct upsert_user {
  domain::user value_;
};
struct upsert_guild {
  domain::guild value_;
};
struct upsert_role {
  snowflake guild_id_;
  domain::role value_;
};
/// Writes the channel row and replaces all its overwrites.
struct upsert_channel {
  domain::channel value_;
};
struct set_overwrites {
  snowflake channel_id_;
  std::vector<domain::permission_overwrite> value_;
};
/// Writes the member row and replaces its role set.
struct upsert_member {
  snowflake guild_id_;
  domain::member value_;
};
/// Also drops the role from members' role sets and from channel overwrites.
struct delete_role {
  snowflake guild_id_;
  snowflake role_id_;
};
/// Also drops the channel's overwrites; its messages are kept.
struct delete_channel {
  snowflake channel_id_;
};
struct delete_member {
  snowflake guild_id_;
  snowflake user_id_;
};
/// Fails with constraint when the id exists.
struct insert_message {
  domain::message value_;
};
/// Fails with not_found when the message is missing or deleted.
struct update_message {
  snowflake message_id_;
  std::string content_;
  std::int64_t edited_at_;
};
/// Sets deleted and erases content and mentions; not_found when missing.
struct delete_message {
  snowflake message_id_;
};
/// A feature's keyed state (actors/feature/feature_state.hpp): sets `key_` to `value_`.
struct put_feature_state {
  std::string feature_;
  std::string key_;  ///< UTF-8 text, no NUL
  std::string value_;
};
/// Drops `key_`, or with `prefix_` every key of the feature starting with `key_`. Absent keys
/// succeed.
struct erase_feature_state {
  std::string feature_;
  std::string key_;
  bool prefix_ = false;
};
}  // namespace write_op

/// One entry of a feature's keyed state.
struct feature_state_entry {
  std::string key_;
  std::string value_;
};

/// The owner check a guild's batch carries (docs/store.md, "Guild owners and fencing"): the batch
/// commits only while `epoch_` is still the guild's epoch in the store, and then sets the guild's
/// last committed order to `last_order_`, in the same transaction.
struct batch_fence {
  snowflake guild_id_ = 0;
  std::uint64_t epoch_ = 0;       ///< what store::claim_guild returned to the writer's guild actor
  std::uint64_t last_order_ = 0;  ///< guild order of the batch's last event
};

/// One row of a guild's persisted event tail (docs/store.md, "Event tail"): the dispatchable
/// events of one fenced batch, written with the batch that commits them, read back by the
/// guild's next owner to replay them to relays that missed them. Positions are (owner epoch,
/// guild order), compared as pairs.
struct tail_event {
  std::uint64_t epoch_ = 0;  ///< the owner epoch the events were committed under
  std::uint64_t order_ = 0;  ///< the guild order of the row's last event: the row's position
  /// The position of the guild's stored event before the row's first one ((0, 0): none known),
  /// so a reader can tell a complete run of the tail from one whose older part was overwritten.
  std::uint64_t prev_epoch_ = 0;
  std::uint64_t prev_order_ = 0;
  /// The row it takes (the guild counts its rows modulo the tail's size), so the tail keeps at
  /// most that many rows per guild and a new row replaces the oldest one in place (no delete).
  std::uint32_t slot_ = 0;
  std::string event_;  ///< the encoded events (guild/event_tail.hpp); opaque to the store
};

/// Writes applied together in one transaction by store::apply. The guild actor
/// fills one per group commit. Owned by the caller; not thread-safe.
class write_batch {
public:
  using op =
      std::variant<write_op::upsert_user, write_op::upsert_guild, write_op::upsert_role,
                   write_op::upsert_channel, write_op::set_overwrites, write_op::upsert_member,
                   write_op::delete_role, write_op::delete_channel, write_op::delete_member,
                   write_op::insert_message, write_op::update_message, write_op::delete_message,
                   write_op::put_feature_state, write_op::erase_feature_state>;

  template <class Op>
  write_batch& add(Op value) {
    ops_.emplace_back(std::move(value));
    return *this;
  }

  /// In the order added; applied in this order.
  const std::vector<op>& ops() const { return ops_; }
  std::size_t size() const { return ops_.size(); }
  bool empty() const { return ops_.empty(); }
  /// Drops the ops, the fence and the tail events.
  void clear() {
    ops_.clear();
    fence_.reset();
    tail_.clear();
  }

  /// Makes the batch conditional on the guild's owner epoch (see batch_fence). A batch without
  /// a fence is applied unconditionally (seeding, admin writes, copies).
  void set_fence(const batch_fence& fence) { fence_ = fence; }
  const std::optional<batch_fence>& fence() const { return fence_; }

  /// Tail rows of the fence's guild (the guild actor adds one, holding the batch's events),
  /// written (upserted by slot) in the batch's transaction only when the fence holds: a fenced
  /// batch writes none. Ignored without a fence. Slots must be distinct within one batch.
  void add_tail(tail_event event) { tail_.push_back(std::move(event)); }
  /// Drops the tail rows added so far (the ops and the fence stay).
  void clear_tail() { tail_.clear(); }
  const std::vector<tail_event>& tail() const { return tail_; }

private:
  std::vector<op> ops_;
  std::optional<batch_fence> fence_;
  std::vector<tail_event> tail_;
};

/// A guild's row in the owner table (store::claim_guild, store::guild_owner).
struct guild_owner {
  std::uint64_t epoch_ = 0;       ///< raised by every claim; batches under an older one are fenced
  std::uint64_t node_id_ = 0;     ///< the node (cluster.node_id) whose claim set epoch_
  std::uint64_t last_order_ = 0;  ///< guild order of the last committed fenced batch; 0: none
};

/// Deletes of absent rows succeed (idempotent); message updates and deletes of
/// absent messages fail with not_found, since the store is the only authority
/// on messages. Reads see every write that returned success before them.
class store {
public:
  virtual ~store() = default;

  /// Applies every op in order in one transaction: on any error nothing is
  /// written and the error of the first failing op is returned. Success means
  /// durable (see the implementation's durability setting). A batch with a fence whose epoch is
  /// no longer the guild's fails with `fenced` and writes nothing; otherwise the fence's
  /// last_order_ becomes the guild's, in the same transaction.
  virtual result<void> apply(const write_batch& batch) = 0;

  /// Group commit: applies several independent batches (typically of different guilds) in one
  /// transaction and one durability point. Each batch stays all-or-nothing on its own: a batch
  /// whose op fails is rolled back alone (a savepoint per batch) and gets that op's error, the
  /// others commit together. results[i] answers batches[i]; when the commit itself fails, every
  /// batch that had not failed gets the commit's error. Success means durable, as for apply().
  /// The default applies the batches one by one (correct, not grouped); backends override it.
  virtual std::vector<result<void>> apply_group(const std::vector<const write_batch*>& batches);

  /// Takes the guild for `node_id`: raises its owner epoch by one (1 on the first claim), records
  /// the node, and returns the new row, durably. The claim always succeeds for an existing guild
  /// (the ring decided; the epoch only fences the previous owner's later batches); concurrent
  /// claims are serialised by the store, each gets its own epoch. Runs on the writer connection.
  /// Errors: not_found (no such guild), busy (retryable), in_doubt, internal.
  virtual result<guild_owner> claim_guild(snowflake guild_id, std::uint64_t node_id) = 0;
  /// Group claim: claims every guild of `guild_ids` for `node_id` as claim_guild does, all in one
  /// transaction and one durability point (the store writer gathers concurrent guild starts
  /// here). Each claim stays atomic on its own (its epoch bump and the read of its row); a
  /// guild that does not exist gets not_found alone and the others commit. results[i] answers
  /// guild_ids[i]; when the transaction fails, every claim gets its error. The same guild twice
  /// is claimed twice (two epochs, the later one last). The default claims one by one (correct,
  /// not grouped); backends override it.
  virtual std::vector<result<guild_owner>> claim_guilds(const std::vector<snowflake>& guild_ids,
                                                        std::uint64_t node_id);
  /// The guild's owner row as committed; not_found if the guild was never claimed.
  virtual result<guild_owner> guild_owner_of(snowflake guild_id) = 0;

  /// The guild's tail rows whose position is after (after_epoch, after_order), ascending by
  /// order (the rows of later epochs always have higher orders). A row whose earlier events are
  /// at or before that position is among them (its position is its last event's). Empty when
  /// there are none. The default answers internal (a store without a tail).
  virtual result<std::vector<tail_event>> read_tail(snowflake guild_id, std::uint64_t after_epoch,
                                                    std::uint64_t after_order);
  /// The guild's newest tail row without its bytes (event_ empty); nullopt when it has none.
  /// The default answers internal.
  virtual result<std::optional<tail_event>> tail_head(snowflake guild_id);

  /// The full state of one guild, ready for its actor; not_found if absent.
  virtual result<domain::guild_state> load_guild(snowflake guild_id) = 0;
  /// Every stored guild id, ascending.
  virtual result<std::vector<snowflake>> list_guild_ids() = 0;
  /// Ids of the guilds the user is a member of, ascending.
  virtual result<std::vector<snowflake>> guilds_of_user(snowflake user_id) = 0;
  virtual result<domain::user> get_user(snowflake user_id) = 0;
  /// A message, deleted ones included (deleted_ set, content erased).
  virtual result<domain::message> get_message(snowflake message_id) = 0;
  /// Up to `limit` (1..1000) non-deleted messages of the channel, newest
  /// first; only ids below `before` when it is non-zero.
  virtual result<std::vector<domain::message>> recent_messages(snowflake channel_id,
                                                               std::size_t limit,
                                                               snowflake before = 0) = 0;
  /// The guild a channel belongs to; not_found if no such channel (REST routing).
  virtual result<snowflake> guild_of_channel(snowflake channel_id) = 0;
  /// The entries of `feature` whose key starts with `prefix` ("" for all), ascending by key
  /// (bytewise). The default answers internal (a store without feature state).
  virtual result<std::vector<feature_state_entry>> load_feature_state(const std::string& feature,
                                                                      const std::string& prefix);

  // Accounts (identity). A user can hold tokens once it has a users row; its token epoch
  // starts at 0 and is raised by every revoke, which invalidates all earlier tokens.
  /// The user's current token epoch; not_found if the user does not exist.
  virtual result<std::uint64_t> token_epoch(snowflake user_id) = 0;
  /// Raises the user's token epoch by one and returns the new value (durably);
  /// not_found if the user does not exist.
  virtual result<std::uint64_t> bump_token_epoch(snowflake user_id) = 0;

  // One-op conveniences: each is apply() of a batch holding that op.
  result<void> upsert_user(const domain::user& value);
  result<void> upsert_guild(const domain::guild& value);
  result<void> upsert_role(snowflake guild_id, const domain::role& value);
  result<void> upsert_channel(const domain::channel& value);
  result<void> set_overwrites(snowflake channel_id,
                              const std::vector<domain::permission_overwrite>& value);
  result<void> upsert_member(snowflake guild_id, const domain::member& value);
  result<void> delete_role(snowflake guild_id, snowflake role_id);
  result<void> delete_channel(snowflake channel_id);
  result<void> delete_member(snowflake guild_id, snowflake user_id);
  result<void> insert_message(const domain::message& value);
  result<void> update_message(snowflake message_id, const std::string& content,
                              std::int64_t edited_at);
  result<void> delete_message(snowflake message_id);

  /// Writes a whole guild (guild row, roles, channels with overwrites, users
  /// and members) in one batch; e.g. for creating a guild or seeding demo data.
  result<void> save_guild(const domain::guild_state& state);
};

}  // namespace herald::store
