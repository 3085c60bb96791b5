// SPDX-License-Identifier: Apache-2.0
// sqlite_store: guild owners (claim, owner row) and the fence of a guild's batches
// (docs/store.md, "Guild owners and fencing").
#include <string>

#include "actors/store/detail/sqlite_impl.hpp"
#include "runtime/base/thread_role.hpp"

namespace herald::store {

namespace {

store_error fenced_error(const batch_fence& fence, std::uint64_t current) {
  return store_error{store_errc::fenced, "guild " + std::to_string(fence.guild_id_) +
                                             ": batch made under owner epoch " +
                                             std::to_string(fence.epoch_) + ", the store has " +
                                             std::to_string(current)};
}

}  // namespace

result<std::optional<guild_owner>> sqlite_store::impl::read_owner(snowflake guild_id) {
  std::optional<guild_owner> found;
  auto r = detail::each_row(select_owner_.start().bind_id(1, guild_id), "guild owner",
                            [&](const detail::statement& q) {
                              found = guild_owner{q.column_id(0), q.column_id(1), q.column_id(2)};
                            });
  if (!r) {
    return r.error();
  }
  return found;
}

result<void> sqlite_store::impl::check_fence(const write_batch& batch) {
  if (!batch.fence()) {
    return {};
  }
  const auto& fence = *batch.fence();
  auto owner = read_owner(fence.guild_id_);
  if (!owner) {
    return owner.error();
  }
  const std::uint64_t current = owner.value() ? owner.value()->epoch_ : 0;
  if (current != fence.epoch_) {
    return fenced_error(fence, current);
  }
  return {};
}

result<void> sqlite_store::impl::record_fence(const write_batch& batch) {
  if (!batch.fence()) {
    return {};
  }
  const auto& fence = *batch.fence();
  auto changed = record_order_.start()
                     .bind_id(1, fence.guild_id_)
                     .bind_id(2, fence.epoch_)
                     .bind_id(3, fence.last_order_)
                     .run("record guild order");
  if (!changed) {
    return changed.error();
  }
  if (changed.value() == 0) {
    // check_fence passed in this same transaction, which holds the write lock.
    return store_error{store_errc::internal, "guild " + std::to_string(fence.guild_id_) +
                                                 ": owner row changed inside a transaction"};
  }
  for (const auto& e : batch.tail()) {
    auto written = upsert_tail_.start()
                       .bind_id(1, fence.guild_id_)
                       .bind(2, std::int64_t{e.slot_})
                       .bind_id(3, e.epoch_)
                       .bind_id(4, e.order_)
                       .bind_id(5, e.prev_epoch_)
                       .bind_id(6, e.prev_order_)
                       .bind(7, std::string_view{e.event_})
                       .run("write tail event");
    if (!written) {
      return written.error();
    }
  }
  return {};
}

namespace {

tail_event tail_row(const detail::statement& q, bool with_event) {
  tail_event e;
  e.epoch_ = q.column_id(0);
  e.order_ = q.column_id(1);
  e.prev_epoch_ = q.column_id(2);
  e.prev_order_ = q.column_id(3);
  e.slot_ = static_cast<std::uint32_t>(q.column_id(4));
  if (with_event) {
    e.event_ = q.column_text(5);
  }
  return e;
}

}  // namespace

result<std::vector<tail_event>> sqlite_store::read_tail(snowflake guild_id,
                                                        std::uint64_t after_epoch,
                                                        std::uint64_t after_order) {
  HERALD_EXPECTS_NOT_IO_THREAD();  // blocking: never on an io thread
  std::lock_guard<std::mutex> guard(read_mutex_);
  std::vector<tail_event> rows;
  auto r = detail::each_row(reader_->select_tail_.start()
                                .bind_id(1, guild_id)
                                .bind_id(2, after_epoch)
                                .bind_id(3, after_order),
                            "read tail",
                            [&](const detail::statement& q) { rows.push_back(tail_row(q, true)); });
  if (!r) {
    return r.error();
  }
  return rows;
}

result<std::optional<tail_event>> sqlite_store::tail_head(snowflake guild_id) {
  HERALD_EXPECTS_NOT_IO_THREAD();  // blocking: never on an io thread
  std::lock_guard<std::mutex> guard(read_mutex_);
  std::optional<tail_event> head;
  auto r = detail::each_row(reader_->select_tail_head_.start().bind_id(1, guild_id), "tail head",
                            [&](const detail::statement& q) { head = tail_row(q, false); });
  if (!r) {
    return r.error();
  }
  return head;
}

result<guild_owner> sqlite_store::claim_guild(snowflake guild_id, std::uint64_t node_id) {
  return std::move(claim_guilds({guild_id}, node_id).front());
}

// One transaction (it holds the file's write lock) for every claim: each claim is one
// statement, so a guild without a row (not_found) writes nothing and fails alone.
std::vector<result<guild_owner>> sqlite_store::claim_guilds(const std::vector<snowflake>& guild_ids,
                                                            std::uint64_t node_id) {
  HERALD_EXPECTS_NOT_IO_THREAD();  // blocking: never on an io thread
  std::lock_guard<std::mutex> guard(mutex_);
  auto& s = *impl_;
  std::vector<result<guild_owner>> results;
  auto fail_all = [&](const store_error& e) {
    results.assign(guild_ids.size(), result<guild_owner>{e});
    return results;
  };
  if (auto r = s.begin_.start().run("begin"); !r) {
    return fail_all(r.error());
  }
  auto rollback = [&](const store_error& e) {
    (void)s.rollback_.start().run("rollback");
    return fail_all(e);
  };
  results.reserve(guild_ids.size());
  for (snowflake guild_id : guild_ids) {
    auto claimed =
        s.claim_guild_.start().bind_id(1, guild_id).bind_id(2, node_id).run("claim guild");
    if (!claimed) {
      return rollback(claimed.error());
    }
    if (claimed.value() == 0) {
      results.emplace_back(
          store_error{store_errc::not_found, "no guild " + std::to_string(guild_id)});
      continue;
    }
    auto owner = s.read_owner(guild_id);
    if (!owner) {
      return rollback(owner.error());
    }
    if (!owner.value()) {
      return rollback(store_error{store_errc::internal, "claimed guild has no owner row"});
    }
    results.emplace_back(*owner.value());
  }
  if (auto r = s.commit_.start().run("commit"); !r) {
    return rollback(r.error());
  }
  return results;
}

result<guild_owner> sqlite_store::guild_owner_of(snowflake guild_id) {
  HERALD_EXPECTS_NOT_IO_THREAD();  // blocking: never on an io thread
  std::lock_guard<std::mutex> guard(read_mutex_);
  auto owner = reader_->read_owner(guild_id);
  if (!owner) {
    return owner.error();
  }
  if (!owner.value()) {
    return store_error{store_errc::not_found,
                       "guild " + std::to_string(guild_id) + " was never claimed"};
  }
  return *owner.value();
}

}  // namespace herald::store
