// SPDX-License-Identifier: Apache-2.0
// The persisted event tail on both backends (docs/store.md, "Event tail"): a fenced batch's tail
// rows are written in its transaction, so a fenced batch, or one whose op fails, writes none;
// the tail keeps one row per slot, a new row replacing its slot's older one; reads return the
// rows after a position, (epoch, order) compared as a pair, in order, bytes unchanged, a row
// of several events straddling the position included; the migration adds the table to a store
// of the previous version without touching its rows.
#include <tuple>

#include <catch2/catch.hpp>

#include "actors/store/detail/pg_schema.hpp"
#include "actors/store/detail/sqlite_schema.hpp"
#include "test/actors/store/store_fixture.hpp"

using namespace herald::store;
using namespace herald::domain;

namespace {

constexpr snowflake gid = 200;
constexpr snowflake other_gid = 201;

/// Bytes no text column would keep: a NUL, high bytes, and the order itself.
std::string event_bytes(std::uint64_t order) {
  std::string out{"\x01\x00\xff\xfe tail ", 9};
  return out + std::to_string(order);
}

tail_event tail_row(std::uint64_t epoch, std::uint64_t order, std::uint64_t prev_epoch,
                    std::uint64_t prev_order, std::uint32_t slots) {
  return tail_event{epoch,
                    order,
                    prev_epoch,
                    prev_order,
                    static_cast<std::uint32_t>(order % slots),
                    event_bytes(order)};
}

/// A batch of `guild_id` under `epoch` inserting message `message_id` and storing tail events
/// for orders first..last (each naming the one before it), `slots` rows per guild.
write_batch tailed_batch(snowflake guild_id, std::uint64_t epoch, snowflake message_id,
                         std::uint64_t first, std::uint64_t last, std::uint32_t slots = 1024) {
  write_batch b;
  auto m = herald::store::test::sample_message(message_id, 300);
  m.guild_id_ = guild_id;
  b.add(write_op::insert_message{m});
  for (auto order = first; order <= last; ++order) {
    b.add_tail(tail_row(epoch, order, order == 1 ? 0 : epoch, order - 1, slots));
  }
  b.set_fence({guild_id, epoch, last});
  return b;
}

std::vector<std::uint64_t> orders_after(store& st, snowflake guild_id, std::uint64_t epoch,
                                        std::uint64_t order) {
  auto rows = st.read_tail(guild_id, epoch, order);
  REQUIRE(rows);
  std::vector<std::uint64_t> out;
  for (const auto& r : rows.value()) {
    out.push_back(r.order_);
  }
  return out;
}

void claimed_guild(store& st, snowflake id) {
  REQUIRE(st.upsert_guild(guild{id, "g" + std::to_string(id), 1}));
  REQUIRE(st.claim_guild(id, 1));
}

}  // namespace

TEST_CASE("a_fenced_batch_writes_its_tail_events_in_its_transaction_and_a_refused_one_none") {
  HERALD_STORE_BACKEND(fx, sync_mode::normal);
  auto st = fx.open();
  claimed_guild(*st, gid);
  CHECK(st->tail_head(gid).value() == std::nullopt);
  REQUIRE(st->apply(tailed_batch(gid, 1, 1, 1, 2)));

  auto rows = st->read_tail(gid, 0, 0);
  REQUIRE(rows);
  REQUIRE(rows.value().size() == 2);
  const auto& second = rows.value()[1];
  CHECK(second.epoch_ == 1);
  CHECK(second.order_ == 2);
  CHECK(second.prev_epoch_ == 1);
  CHECK(second.prev_order_ == 1);
  CHECK(second.event_ == event_bytes(2));  // binary bytes come back unchanged
  auto head = st->tail_head(gid);
  REQUIRE(head);
  REQUIRE(head.value());
  CHECK(head.value()->order_ == 2);
  CHECK(head.value()->event_.empty());

  REQUIRE(st->claim_guild(gid, 2));  // another node takes the guild: epoch 1 is fenced
  auto stale = st->apply(tailed_batch(gid, 1, 2, 3, 3));
  REQUIRE_FALSE(stale);
  CHECK(stale.error().code_ == store_errc::fenced);
  CHECK(orders_after(*st, gid, 0, 0) == std::vector<std::uint64_t>{1, 2});

  SECTION("in a group, the fenced batch and one whose op fails write no tail; the others do") {
    claimed_guild(*st, other_gid);
    auto fenced = tailed_batch(gid, 1, 3, 3, 4);
    auto failing = tailed_batch(other_gid, 1, 1, 1, 1);  // message 1 exists: constraint
    auto good = tailed_batch(gid, 2, 4, 3, 3);
    auto results = st->apply_group({&fenced, &failing, &good});
    REQUIRE(results.size() == 3);
    CHECK(results[0].error().code_ == store_errc::fenced);
    CHECK(results[1].error().code_ == store_errc::constraint);
    CHECK(results[2]);
    CHECK(orders_after(*st, gid, 0, 0) == std::vector<std::uint64_t>{1, 2, 3});
    CHECK(orders_after(*st, other_gid, 0, 0).empty());
    CHECK(st->read_tail(gid, 0, 0).value()[2].epoch_ == 2);
  }
}

TEST_CASE("the_event_tail_keeps_one_row_per_slot_and_reads_after_a_position") {
  HERALD_STORE_BACKEND(fx, sync_mode::normal);
  auto st = fx.open();
  claimed_guild(*st, gid);
  constexpr std::uint32_t slots = 4;
  // Ten orders over three commits: each new event takes the slot of the one `slots` before it.
  REQUIRE(st->apply(tailed_batch(gid, 1, 1, 1, 3, slots)));
  REQUIRE(st->apply(tailed_batch(gid, 1, 2, 4, 7, slots)));  // a batch's slots are distinct
  REQUIRE(st->apply(tailed_batch(gid, 1, 3, 8, 10, slots)));
  CHECK(orders_after(*st, gid, 0, 0) == std::vector<std::uint64_t>{7, 8, 9, 10});
  CHECK(orders_after(*st, gid, 1, 8) == std::vector<std::uint64_t>{9, 10});
  CHECK(orders_after(*st, gid, 1, 10).empty());
  CHECK(st->tail_head(gid).value()->order_ == 10);

  // A later epoch may reuse an order an ephemeral event of the earlier one had (it was never
  // committed): (2, 10) is after (1, 10), and (1, 12) is before (2, 11).
  REQUIRE(st->claim_guild(gid, 2));
  write_batch next;
  auto m = herald::store::test::sample_message(4, 300);
  m.guild_id_ = gid;
  next.add(write_op::insert_message{m});
  next.add_tail(tail_event{2, 11, 1, 10, 11 % slots, event_bytes(11)});
  next.set_fence({gid, 2, 11});
  REQUIRE(st->apply(next));
  CHECK(orders_after(*st, gid, 1, 10) == std::vector<std::uint64_t>{11});
  CHECK(orders_after(*st, gid, 1, 12) == std::vector<std::uint64_t>{11});
  CHECK(orders_after(*st, gid, 2, 11).empty());
  CHECK(orders_after(*st, gid, 0, 0) == std::vector<std::uint64_t>{8, 9, 10, 11});
}

TEST_CASE("a_row_holding_a_batch_is_read_after_any_position_before_its_last_event") {
  HERALD_STORE_BACKEND(fx, sync_mode::normal);
  auto st = fx.open();
  claimed_guild(*st, gid);
  // Two guild batches, one row each (the guild's slot counter): orders 1..5, then 6..9. A row's
  // position is its last event's, its predecessor the event before its first.
  for (const auto& [message, slot, order, prev_order] :
       std::vector<std::tuple<snowflake, std::uint32_t, std::uint64_t, std::uint64_t>>{
           {1, 0, 5, 0}, {2, 1, 9, 5}}) {
    write_batch b;
    auto m = herald::store::test::sample_message(message, 300);
    m.guild_id_ = gid;
    b.add(write_op::insert_message{m});
    b.add_tail(tail_event{1, order, prev_order == 0 ? std::uint64_t{0} : std::uint64_t{1},
                          prev_order, slot, event_bytes(order)});
    b.set_fence({gid, 1, order});
    REQUIRE(st->apply(b));
  }
  // A cursor inside a batch (orders 1..4 delivered) reads the row that straddles it.
  CHECK(orders_after(*st, gid, 1, 3) == std::vector<std::uint64_t>{5, 9});
  CHECK(orders_after(*st, gid, 1, 5) == std::vector<std::uint64_t>{9});
  CHECK(orders_after(*st, gid, 1, 7) == std::vector<std::uint64_t>{9});
  CHECK(orders_after(*st, gid, 1, 9).empty());
  auto rows = st->read_tail(gid, 1, 7);
  REQUIRE(rows);
  REQUIRE(rows.value().size() == 1);
  CHECK(rows.value()[0].prev_order_ == 5);
  CHECK(rows.value()[0].event_ == event_bytes(9));
  CHECK(st->tail_head(gid).value()->slot_ == 1);  // a new owner's first row takes slot 2
}

TEST_CASE("the_event_tail_migration_adds_the_table_and_keeps_the_owner_rows") {
  HERALD_STORE_BACKEND(fx, sync_mode::normal);
  {
    auto st = fx.open();
    claimed_guild(*st, gid);
    REQUIRE(st->apply(tailed_batch(gid, 1, 1, 1, 2)));
  }
  herald::store::test::rewind_before_table(fx, "guild_event_tail", detail::event_tail_version - 1,
                                           detail::pg_event_tail_version - 1);
  auto st = fx.open();
  auto owner = st->guild_owner_of(gid);
  REQUIRE(owner);
  CHECK(owner.value().last_order_ == 2);
  CHECK(st->get_message(1));
  CHECK(st->tail_head(gid).value() == std::nullopt);
  REQUIRE(st->apply(tailed_batch(gid, 1, 2, 3, 3)));
  CHECK(orders_after(*st, gid, 0, 0) == std::vector<std::uint64_t>{3});
}
