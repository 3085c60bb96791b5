// SPDX-License-Identifier: Apache-2.0
// The store interface on both backends (HERALD_STORE_BACKEND: SQLite and PostgreSQL): guild
// state round trips, upserts and deletes, listings, 64-bit ids.
#include <catch2/catch.hpp>

#include <map>

#include "actors/domain/permission_bits.hpp"
#include "test/actors/store/store_fixture.hpp"

using namespace herald::store;
using namespace herald::domain;
namespace perm = herald::permissions;

namespace {

constexpr snowflake gid = 100;

guild_state sample_guild() {
  guild_state g(guild{gid, "herald", 1});
  role everyone = g.everyone_role();
  everyone.permissions_ = perm::view_channel | perm::send_messages;
  REQUIRE(g.update_role(everyone) == apply_error::ok);
  role mods{200, "mods", 3, perm::all_permissions, 0xabcdef, true, true, false};
  REQUIRE(g.create_role(mods) == apply_error::ok);
  REQUIRE(g.create_role(role{201, "bots", 1, perm::send_messages, 0, false, false, true}) ==
          apply_error::ok);
  REQUIRE(g.add_member(member{1, {}, 1700000000000}, user{1, "owner", false}) == apply_error::ok);
  REQUIRE(g.add_member(member{2, {200, 201}, 1700000000001}, user{2, "alice", false}) ==
          apply_error::ok);
  REQUIRE(g.add_member(member{3, {201}, 1700000000002}, user{3, "robot", true}) == apply_error::ok);
  channel c;
  c.id_ = 300;
  c.name_ = "general";
  c.position_ = 0;
  // Out of id order on purpose: the stored order must come back as given.
  c.overwrites_ = {{3, overwrite_type::member, perm::send_messages, 0},
                   {gid, overwrite_type::role, 0, perm::view_channel},
                   {200, overwrite_type::role, perm::view_channel, 0}};
  REQUIRE(g.create_channel(c) == apply_error::ok);
  c.id_ = 301;
  c.type_ = 2;
  c.name_ = "voice";
  c.position_ = 1;
  c.overwrites_.clear();
  REQUIRE(g.create_channel(c) == apply_error::ok);
  return g;
}

void check_same(const guild_state& a, const guild_state& b) {
  CHECK(a.info() == b.info());
  REQUIRE(a.roles().size() == b.roles().size());
  for (std::size_t i = 0; i < a.roles().size(); ++i) {
    CHECK(a.roles()[i] == b.roles()[i]);
  }
  REQUIRE(a.channels().size() == b.channels().size());
  for (std::size_t i = 0; i < a.channels().size(); ++i) {
    CHECK(a.channels()[i] == b.channels()[i]);
  }
  REQUIRE(a.member_count() == b.member_count());
  for (const auto& [user_id, entry] : a.members()) {
    INFO("member " << user_id);
    REQUIRE(b.find_member(user_id) != nullptr);
    CHECK(*b.find_member(user_id) == entry.member_);
    CHECK(*b.find_user(user_id) == entry.user_);
  }
}

}  // namespace

TEST_CASE("a_whole_guild_round_trips_through_save_and_load") {
  HERALD_STORE_BACKEND(fx, sync_mode::full);
  auto store = fx.open();
  const auto g = sample_guild();
  REQUIRE(store->save_guild(g));
  auto loaded = store->load_guild(gid);
  REQUIRE(loaded);
  check_same(g, loaded.value());
}

TEST_CASE("a_saved_guild_survives_reopening_the_file") {
  HERALD_STORE_BACKEND(fx, sync_mode::full);
  const auto g = sample_guild();
  { REQUIRE(fx.open()->save_guild(g)); }
  auto loaded = fx.open()->load_guild(gid);
  REQUIRE(loaded);
  check_same(g, loaded.value());
}

TEST_CASE("loading_an_unknown_guild_is_not_found") {
  HERALD_STORE_BACKEND(fx, sync_mode::full);
  auto store = fx.open();
  auto loaded = store->load_guild(404);
  REQUIRE_FALSE(loaded);
  CHECK(loaded.error().code_ == store_errc::not_found);
}

TEST_CASE("a_guild_without_stored_roles_loads_with_a_default_everyone_role") {
  HERALD_STORE_BACKEND(fx, sync_mode::full);
  auto store = fx.open();
  REQUIRE(store->upsert_guild(guild{gid, "bare", 1}));
  auto loaded = store->load_guild(gid);
  REQUIRE(loaded);
  CHECK(loaded.value().everyone_role().permissions_ == perm::default_everyone);
}

TEST_CASE("upserts_replace_rows_overwrites_and_member_roles") {
  HERALD_STORE_BACKEND(fx, sync_mode::full);
  auto store = fx.open();
  auto g = sample_guild();
  REQUIRE(store->save_guild(g));
  REQUIRE(g.update_guild(guild{gid, "renamed", 2}) == apply_error::ok);
  role mods = *g.find_role(200);
  mods.permissions_ = perm::kick_members;
  mods.name_ = "moderators";
  REQUIRE(g.update_role(mods) == apply_error::ok);
  channel c = *g.find_channel(300);
  c.name_ = "lobby";
  c.overwrites_ = {{201, overwrite_type::role, 1, 2}};
  REQUIRE(g.update_channel(c) == apply_error::ok);
  REQUIRE(g.update_member(member{2, {201}, 1700000000001}, user{2, "alice2", false}) ==
          apply_error::ok);
  write_batch batch;
  batch.add(write_op::upsert_guild{g.info()})
      .add(write_op::upsert_role{gid, mods})
      .add(write_op::upsert_channel{c})
      .add(write_op::upsert_member{gid, *g.find_member(2)})
      .add(write_op::upsert_user{*g.find_user(2)});
  REQUIRE(store->apply(batch));
  auto loaded = store->load_guild(gid);
  REQUIRE(loaded);
  check_same(g, loaded.value());
  REQUIRE(store->set_overwrites(301, {{2, overwrite_type::member, 4, 8}}));
  loaded = store->load_guild(gid);
  REQUIRE(loaded);
  REQUIRE(loaded.value().find_channel(301)->overwrites_.size() == 1);
  CHECK(loaded.value().find_channel(301)->overwrites_[0].allow_ == 4);
}

TEST_CASE("deleting_a_role_drops_it_from_members_and_overwrites") {
  HERALD_STORE_BACKEND(fx, sync_mode::full);
  auto store = fx.open();
  auto g = sample_guild();
  REQUIRE(store->save_guild(g));
  REQUIRE(g.delete_role(200) == apply_error::ok);
  REQUIRE(store->delete_role(gid, 200));
  auto loaded = store->load_guild(gid);
  REQUIRE(loaded);
  check_same(g, loaded.value());
  CHECK(loaded.value().find_role(200) == nullptr);
  CHECK(store->delete_role(gid, 200));  // idempotent
}

TEST_CASE("deleting_channels_and_members_removes_their_rows") {
  HERALD_STORE_BACKEND(fx, sync_mode::full);
  auto store = fx.open();
  auto g = sample_guild();
  REQUIRE(store->save_guild(g));
  REQUIRE(g.delete_channel(300) == apply_error::ok);
  REQUIRE(g.remove_member(2) == apply_error::ok);
  REQUIRE(store->delete_channel(300));
  REQUIRE(store->delete_member(gid, 2));
  auto loaded = store->load_guild(gid);
  REQUIRE(loaded);
  check_same(g, loaded.value());
  // The user row outlives the membership: users are global, not per guild.
  CHECK(store->get_user(2));
}

TEST_CASE("guild_ids_and_a_users_guilds_are_listed_in_id_order") {
  HERALD_STORE_BACKEND(fx, sync_mode::full);
  auto store = fx.open();
  write_batch batch;
  for (snowflake id : {503, 501, 502}) {
    batch.add(write_op::upsert_guild{guild{id, "g", 1}});
  }
  batch.add(write_op::upsert_member{503, member{9, {}, 0}})
      .add(write_op::upsert_member{501, member{9, {}, 0}})
      .add(write_op::upsert_member{502, member{8, {}, 0}});
  REQUIRE(store->apply(batch));
  auto ids = store->list_guild_ids();
  REQUIRE(ids);
  CHECK(ids.value() == std::vector<snowflake>{501, 502, 503});
  auto mine = store->guilds_of_user(9);
  REQUIRE(mine);
  CHECK(mine.value() == std::vector<snowflake>{501, 503});
  REQUIRE(store->delete_member(503, 9));
  CHECK(store->guilds_of_user(9).value() == std::vector<snowflake>{501});
  CHECK(store->guilds_of_user(77).value().empty());
}

TEST_CASE("users_round_trip_and_unknown_users_are_not_found") {
  HERALD_STORE_BACKEND(fx, sync_mode::full);
  auto store = fx.open();
  REQUIRE(store->upsert_user({5, "bot", true}));
  REQUIRE(store->upsert_user({5, "renamed bot", true}));
  CHECK(store->get_user(5).value() == user{5, "renamed bot", true});
  auto missing = store->get_user(6);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code_ == store_errc::not_found);
}

TEST_CASE("snowflakes_and_bitfields_keep_all_64_bits") {
  HERALD_STORE_BACKEND(fx, sync_mode::full);
  auto store = fx.open();
  const snowflake big = 0xfedcba9876543210ULL;
  REQUIRE(store->upsert_guild(guild{gid, "g", big}));
  REQUIRE(store->upsert_role(gid, role{201, "r", 0, ~0ULL}));
  auto loaded = store->load_guild(gid);
  REQUIRE(loaded);
  CHECK(loaded.value().info().owner_id_ == big);
  CHECK(loaded.value().find_role(201)->permissions_ == ~0ULL);
}
