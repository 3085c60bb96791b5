// SPDX-License-Identifier: Apache-2.0
// Guild owners on both backends (docs/store.md, "Guild owners and fencing"): a claim raises the
// guild's epoch; a batch made under an older epoch is refused (fenced) and writes nothing, alone
// in its group; a committed batch records its guild's last order, which survives reopening; the
// migration adds the table to a store of the previous version without touching its rows.
#include <catch2/catch.hpp>

#include "actors/store/detail/pg_schema.hpp"
#include "actors/store/detail/sqlite_schema.hpp"
#include "test/actors/store/store_fixture.hpp"

using namespace herald::store;
using namespace herald::domain;
using herald::store::test::sample_message;

namespace {

constexpr snowflake gid = 100;
constexpr snowflake other_gid = 101;

void save_guild_row(store& st, snowflake id) {
  REQUIRE(st.upsert_guild(guild{id, "g" + std::to_string(id), 1}));
}

message message_of(snowflake id, snowflake guild_id) {
  auto m = sample_message(id, 300 + guild_id);
  m.guild_id_ = guild_id;
  return m;
}

/// A batch of `guild_id` made under `epoch`, ordered up to `last_order`, inserting `ids`.
write_batch fenced_batch(snowflake guild_id, std::uint64_t epoch, std::uint64_t last_order,
                         std::initializer_list<snowflake> ids) {
  write_batch b;
  for (auto id : ids) {
    b.add(write_op::insert_message{message_of(id, guild_id)});
  }
  b.set_fence({guild_id, epoch, last_order});
  return b;
}

std::uint64_t last_order(store& st, snowflake guild_id) {
  auto owner = st.guild_owner_of(guild_id);
  REQUIRE(owner);
  return owner.value().last_order_;
}

}  // namespace

TEST_CASE("a_claim_raises_the_guild_epoch_and_records_the_claiming_node") {
  HERALD_STORE_BACKEND(fx, sync_mode::normal);
  auto st = fx.open();
  auto absent = st->claim_guild(gid, 1);
  REQUIRE_FALSE(absent);
  CHECK(absent.error().code_ == store_errc::not_found);
  CHECK(st->guild_owner_of(gid).error().code_ == store_errc::not_found);

  save_guild_row(*st, gid);
  auto first = st->claim_guild(gid, 1);
  REQUIRE(first);
  CHECK(first.value().epoch_ == 1);
  CHECK(first.value().node_id_ == 1);
  CHECK(first.value().last_order_ == 0);
  auto second = st->claim_guild(gid, 7);
  REQUIRE(second);
  CHECK(second.value().epoch_ == 2);
  CHECK(second.value().node_id_ == 7);
  auto row = st->guild_owner_of(gid);
  REQUIRE(row);
  CHECK(row.value().epoch_ == 2);
  CHECK(row.value().node_id_ == 7);
}

TEST_CASE(
    "claims_of_several_guilds_in_one_transaction_raise_each_epoch_and_a_missing_guild_fails_"
    "alone") {
  HERALD_STORE_BACKEND(fx, sync_mode::normal);
  auto st = fx.open();
  save_guild_row(*st, gid);
  save_guild_row(*st, other_gid);
  REQUIRE(st->claim_guild(other_gid, 1));
  constexpr snowflake missing = 999;
  auto claimed = st->claim_guilds({gid, missing, other_gid, gid}, 2);
  REQUIRE(claimed.size() == 4);
  REQUIRE(claimed[0]);
  CHECK(claimed[0].value().epoch_ == 1);
  CHECK(claimed[0].value().node_id_ == 2);
  REQUIRE_FALSE(claimed[1]);
  CHECK(claimed[1].error().code_ == store_errc::not_found);
  REQUIRE(claimed[2]);
  CHECK(claimed[2].value().epoch_ == 2);
  REQUIRE(claimed[3]);  // the same guild twice: claimed twice, in order
  CHECK(claimed[3].value().epoch_ == 2);
  CHECK(st->guild_owner_of(gid).value().epoch_ == 2);
  CHECK(st->guild_owner_of(other_gid).value().node_id_ == 2);
  CHECK(st->guild_owner_of(missing).error().code_ == store_errc::not_found);
  // A batch fenced under the first claim's epoch: the group's second claim replaced it.
  auto stale = st->apply(fenced_batch(gid, 1, 5, {1}));
  REQUIRE_FALSE(stale);
  CHECK(stale.error().code_ == store_errc::fenced);
  REQUIRE(st->apply(fenced_batch(gid, 2, 5, {2})));
  CHECK(last_order(*st, gid) == 5);
}

TEST_CASE("a_batch_under_an_old_epoch_is_fenced_and_writes_nothing") {
  HERALD_STORE_BACKEND(fx, sync_mode::normal);
  auto st = fx.open();
  save_guild_row(*st, gid);
  REQUIRE(st->claim_guild(gid, 1));
  auto ok = fenced_batch(gid, 1, 2, {1, 2});
  REQUIRE(st->apply(ok));
  CHECK(last_order(*st, gid) == 2);

  REQUIRE(st->claim_guild(gid, 2));  // another node takes the guild
  auto stale = fenced_batch(gid, 1, 3, {3});
  stale.add(write_op::upsert_user{user{50, "stale", false}});
  auto refused = st->apply(stale);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code_ == store_errc::fenced);
  CHECK(st->get_message(3).error().code_ == store_errc::not_found);
  CHECK(st->get_user(50).error().code_ == store_errc::not_found);
  CHECK(last_order(*st, gid) == 2);

  // A batch for a guild nobody claimed is fenced too (epoch 0 in the store).
  save_guild_row(*st, other_gid);
  auto unclaimed = fenced_batch(other_gid, 1, 1, {4});
  CHECK(st->apply(unclaimed).error().code_ == store_errc::fenced);

  auto current = fenced_batch(gid, 2, 3, {3});
  REQUIRE(st->apply(current));
  CHECK(st->get_message(3));
  CHECK(last_order(*st, gid) == 3);
}

TEST_CASE("a_fenced_batch_in_a_group_fails_alone_and_the_other_guilds_batches_commit") {
  HERALD_STORE_BACKEND(fx, sync_mode::normal);
  auto st = fx.open();
  save_guild_row(*st, gid);
  save_guild_row(*st, other_gid);
  REQUIRE(st->claim_guild(gid, 1));
  REQUIRE(st->claim_guild(other_gid, 1));
  REQUIRE(st->claim_guild(gid, 2));  // gid's epoch 1 is stale now

  SECTION("every other batch is fine") {
    auto before = fenced_batch(other_gid, 1, 5, {10, 11});
    auto stale = fenced_batch(gid, 1, 9, {20, 21});
    auto plain = write_batch{};  // no fence: applied unconditionally
    plain.add(write_op::insert_message{message_of(30, 999)});
    auto after = fenced_batch(gid, 2, 4, {40});
    after.add(write_op::upsert_user{user{41, "after", false}});
    auto results = st->apply_group({&before, &stale, &plain, &after});
    REQUIRE(results.size() == 4);
    CHECK(results[0]);
    REQUIRE_FALSE(results[1]);
    CHECK(results[1].error().code_ == store_errc::fenced);
    CHECK(results[2]);
    CHECK(results[3]);
    CHECK(st->get_message(10));
    CHECK(st->get_message(11));
    CHECK(st->get_message(20).error().code_ == store_errc::not_found);
    CHECK(st->get_message(21).error().code_ == store_errc::not_found);
    CHECK(st->get_message(30));
    CHECK(st->get_message(40));
    CHECK(st->get_user(41));
    CHECK(last_order(*st, other_gid) == 5);
    CHECK(last_order(*st, gid) == 4);
  }
  SECTION("another batch fails on its own data too") {
    REQUIRE(st->insert_message(message_of(1, 999)));
    auto duplicate = fenced_batch(other_gid, 1, 6, {12, 1});  // id 1 exists: constraint
    auto stale = fenced_batch(gid, 1, 9, {20});
    auto good = fenced_batch(gid, 2, 3, {22});
    auto results = st->apply_group({&duplicate, &stale, &good});
    REQUIRE(results.size() == 3);
    REQUIRE_FALSE(results[0]);
    CHECK(results[0].error().code_ == store_errc::constraint);
    REQUIRE_FALSE(results[1]);
    CHECK(results[1].error().code_ == store_errc::fenced);
    CHECK(results[2]);
    CHECK(st->get_message(12).error().code_ == store_errc::not_found);
    CHECK(st->get_message(20).error().code_ == store_errc::not_found);
    CHECK(st->get_message(22));
    // The failed batch's order is not recorded; the good one's is.
    auto other = st->guild_owner_of(other_gid);
    REQUIRE(other);
    CHECK(other.value().last_order_ == 0);
    CHECK(last_order(*st, gid) == 3);
  }
}

TEST_CASE("the_last_committed_order_survives_reopening_and_a_new_claim_returns_it") {
  HERALD_STORE_BACKEND(fx, sync_mode::normal);
  {
    auto st = fx.open();
    save_guild_row(*st, gid);
    REQUIRE(st->claim_guild(gid, 3));
    auto b1 = fenced_batch(gid, 1, 17, {1});
    auto b2 = fenced_batch(gid, 1, 18, {2});
    auto results = st->apply_group({&b1});
    REQUIRE(results[0]);
    REQUIRE(st->apply(b2));
  }
  auto st = fx.open();
  CHECK(last_order(*st, gid) == 18);
  auto claimed = st->claim_guild(gid, 4);
  REQUIRE(claimed);
  CHECK(claimed.value().epoch_ == 2);
  CHECK(claimed.value().last_order_ == 18);
}

TEST_CASE("the_guild_owners_migration_adds_the_table_and_keeps_every_row") {
  HERALD_STORE_BACKEND(fx, sync_mode::normal);
  {
    auto st = fx.open();
    save_guild_row(*st, gid);
    REQUIRE(st->insert_message(message_of(1, gid)));
  }
  herald::store::test::rewind_before_table(fx, "guild_owners", detail::guild_owners_version - 1,
                                           detail::pg_guild_owners_version - 1);
  auto st = fx.open();
  CHECK(st->load_guild(gid).value().info().name_ == "g100");
  CHECK(st->get_message(1));
  CHECK(st->guild_owner_of(gid).error().code_ == store_errc::not_found);
  auto claimed = st->claim_guild(gid, 2);
  REQUIRE(claimed);
  CHECK(claimed.value().epoch_ == 1);
  CHECK(claimed.value().last_order_ == 0);
}
