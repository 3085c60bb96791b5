// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <string>

#include "actors/domain/convert.hpp"
#include "actors/domain/guild_state.hpp"
#include "actors/domain/permission_bits.hpp"

using namespace herald::domain;
namespace perm = herald::permissions;
namespace proto = herald::proto;

namespace {

constexpr snowflake gid = 1000;
constexpr snowflake owner = 1;
constexpr snowflake alice = 2;
constexpr snowflake mods = 2000;
constexpr snowflake general = 3000;

user make_user(snowflake id) {
  return user{id, "user" + std::to_string(id), false};
}

member make_member(snowflake id, std::vector<snowflake> roles = {}) {
  return member{id, std::move(roles), 1700000000000};
}

role make_role(snowflake id, perm::bits bits = perm::kick_members) {
  role r;
  r.id_ = id;
  r.name_ = "role" + std::to_string(id);
  r.position_ = 1;
  r.permissions_ = bits;
  return r;
}

channel make_channel(snowflake id, std::vector<permission_overwrite> ows = {}) {
  channel c;
  c.id_ = id;
  c.name_ = "chan" + std::to_string(id);
  c.overwrites_ = std::move(ows);
  return c;
}

guild_state sample_guild() {
  guild_state g(guild{gid, "herald", owner});
  REQUIRE(g.add_member(make_member(owner), make_user(owner)) == apply_error::ok);
  REQUIRE(g.create_role(make_role(mods)) == apply_error::ok);
  REQUIRE(g.add_member(make_member(alice, {mods}), make_user(alice)) == apply_error::ok);
  REQUIRE(g.create_channel(make_channel(general)) == apply_error::ok);
  return g;
}

proto::event envelope(snowflake guild_id = gid) {
  proto::event ev;
  ev.set_guild_id(guild_id);
  return ev;
}

}  // namespace

TEST_CASE("a_new_guild_has_an_everyone_role_with_the_guild_id") {
  guild_state g(guild{gid, "herald", owner});
  CHECK(g.everyone_role().id_ == gid);
  CHECK(g.everyone_role().name_ == "@everyone");
  CHECK(g.everyone_role().permissions_ == perm::default_everyone);
  CHECK(g.roles().size() == 1);
  CHECK(g.channels().empty());
  CHECK(g.member_count() == 0);
}

TEST_CASE("members_are_added_updated_and_removed") {
  auto g = sample_guild();
  CHECK(g.find_member(alice)->role_ids_ == std::vector<snowflake>{mods});
  CHECK(g.find_user(alice)->username_ == "user2");
  user renamed = make_user(alice);
  renamed.username_ = "alice";
  CHECK(g.update_member(make_member(alice), renamed) == apply_error::ok);
  CHECK(g.find_member(alice)->role_ids_.empty());
  CHECK(g.find_user(alice)->username_ == "alice");
  CHECK(g.remove_member(alice) == apply_error::ok);
  CHECK(g.find_member(alice) == nullptr);
  CHECK(g.find_user(alice) == nullptr);
}

TEST_CASE("member_errors_are_typed_and_leave_state_unchanged") {
  auto g = sample_guild();
  CHECK(g.add_member(make_member(alice), make_user(alice)) == apply_error::member_exists);
  CHECK(g.add_member(make_member(7, {999}), make_user(7)) == apply_error::unknown_role);
  CHECK(g.find_member(7) == nullptr);
  CHECK(g.add_member(make_member(8), make_user(9)) == apply_error::user_mismatch);
  CHECK(g.update_member(make_member(42), std::nullopt) == apply_error::unknown_member);
  CHECK(g.update_member(make_member(alice, {999}), std::nullopt) == apply_error::unknown_role);
  CHECK(g.find_member(alice)->role_ids_ == std::vector<snowflake>{mods});
  CHECK(g.remove_member(42) == apply_error::unknown_member);
  CHECK(g.remove_member(owner) == apply_error::owner_protected);
}

TEST_CASE("member_roles_are_sorted_deduplicated_and_never_hold_everyone") {
  auto g = sample_guild();
  REQUIRE(g.create_role(make_role(1500)) == apply_error::ok);
  CHECK(g.update_member(make_member(alice, {mods, gid, 1500, mods}), std::nullopt) ==
        apply_error::ok);
  CHECK(g.find_member(alice)->role_ids_ == std::vector<snowflake>{1500, mods});
}

TEST_CASE("channels_are_created_updated_and_deleted") {
  auto g = sample_guild();
  CHECK(g.find_channel(general)->guild_id_ == gid);
  auto updated = make_channel(general, {{mods, overwrite_type::role, perm::view_channel, 0}});
  updated.name_ = "renamed";
  CHECK(g.update_channel(updated) == apply_error::ok);
  CHECK(g.find_channel(general)->name_ == "renamed");
  CHECK(g.find_channel(general)->overwrites_.size() == 1);
  CHECK(g.create_channel(make_channel(general)) == apply_error::channel_exists);
  CHECK(g.update_channel(make_channel(9)) == apply_error::unknown_channel);
  CHECK(g.delete_channel(general) == apply_error::ok);
  CHECK(g.delete_channel(general) == apply_error::unknown_channel);
  CHECK(g.channels().empty());
}

TEST_CASE("channels_stay_sorted_by_id") {
  auto g = sample_guild();
  for (snowflake id : {5000, 4000, 3500}) {
    REQUIRE(g.create_channel(make_channel(id)) == apply_error::ok);
  }
  std::vector<snowflake> ids;
  for (const auto& c : g.channels()) {
    ids.push_back(c.id_);
  }
  CHECK(ids == std::vector<snowflake>{3000, 3500, 4000, 5000});
}

TEST_CASE("channel_overwrites_are_validated") {
  auto g = sample_guild();
  CHECK(g.create_channel(make_channel(9, {{999, overwrite_type::role, 0, 0}})) ==
        apply_error::unknown_role);
  CHECK(g.create_channel(make_channel(
            9, {{mods, overwrite_type::role, 0, 0}, {mods, overwrite_type::role, 1, 0}})) ==
        apply_error::invalid_overwrite);
  // A member overwrite may name a user who is not (or no longer) a member.
  CHECK(g.create_channel(make_channel(9, {{77, overwrite_type::member, 0, 0},
                                          {mods, overwrite_type::role, 0, 0}})) == apply_error::ok);
  auto foreign = make_channel(10);
  foreign.guild_id_ = 55;
  CHECK(g.create_channel(foreign) == apply_error::wrong_guild);
}

TEST_CASE("deleting_a_role_removes_it_from_members_and_overwrites") {
  auto g = sample_guild();
  REQUIRE(g.update_channel(make_channel(general, {{mods, overwrite_type::role, 1, 2},
                                                  {alice, overwrite_type::member, 4, 8}})) ==
          apply_error::ok);
  CHECK(g.delete_role(mods) == apply_error::ok);
  CHECK(g.find_role(mods) == nullptr);
  CHECK(g.find_member(alice)->role_ids_.empty());
  REQUIRE(g.find_channel(general)->overwrites_.size() == 1);
  CHECK(g.find_channel(general)->overwrites_[0].type_ == overwrite_type::member);
  CHECK(g.delete_role(mods) == apply_error::unknown_role);
  CHECK(g.delete_role(gid) == apply_error::everyone_protected);
}

TEST_CASE("roles_are_created_and_updated_including_everyone") {
  auto g = sample_guild();
  CHECK(g.create_role(make_role(mods)) == apply_error::role_exists);
  CHECK(g.create_role(make_role(gid)) == apply_error::role_exists);
  CHECK(g.update_role(make_role(gid, perm::view_channel)) == apply_error::ok);
  CHECK(g.everyone_role().permissions_ == perm::view_channel);
  CHECK(g.update_role(make_role(31337)) == apply_error::unknown_role);
}

TEST_CASE("ownership_moves_only_to_a_member") {
  auto g = sample_guild();
  CHECK(g.update_guild(guild{gid, "renamed", 42}) == apply_error::unknown_member);
  CHECK(g.info().owner_id_ == owner);
  CHECK(g.update_guild(guild{gid, "renamed", alice}) == apply_error::ok);
  CHECK(g.info().owner_id_ == alice);
  CHECK(g.info().name_ == "renamed");
  CHECK(g.update_guild(guild{gid + 1, "x", alice}) == apply_error::wrong_guild);
}

TEST_CASE("message_and_typing_checks_need_a_known_channel_and_member") {
  auto g = sample_guild();
  message m;
  m.id_ = 1;
  m.guild_id_ = gid;
  m.channel_id_ = general;
  m.author_id_ = alice;
  CHECK(g.check_message_create(m) == apply_error::ok);
  m.author_id_ = 42;
  CHECK(g.check_message_create(m) == apply_error::unknown_member);
  m.author_id_ = alice;
  m.channel_id_ = 9;
  CHECK(g.check_message_create(m) == apply_error::unknown_channel);
  m.guild_id_ = 5;
  CHECK(g.check_message_create(m) == apply_error::wrong_guild);
  CHECK(g.check_message_target(general) == apply_error::ok);
  CHECK(g.check_message_target(9) == apply_error::unknown_channel);
  CHECK(g.check_typing(general, 42) == apply_error::unknown_member);
}

TEST_CASE("events_in_the_proto_envelope_apply_like_the_typed_calls") {
  auto g = sample_guild();
  auto ev = envelope();
  *ev.mutable_guild_role_create() = to_proto(make_role(2100));
  CHECK(g.apply(ev) == apply_error::ok);
  ev = envelope();
  auto* add = ev.mutable_guild_member_add();
  *add->mutable_member() = to_proto(make_member(5, {2100}));
  *add->mutable_user() = to_proto(make_user(5));
  CHECK(g.apply(ev) == apply_error::ok);
  CHECK(g.find_member(5)->role_ids_ == std::vector<snowflake>{2100});
  ev = envelope();
  *ev.mutable_guild_member_update()->mutable_member() = to_proto(make_member(5));
  CHECK(g.apply(ev) == apply_error::ok);
  CHECK(g.find_user(5)->username_ == "user5");
  ev = envelope();
  *ev.mutable_channel_create() = to_proto(make_channel(3100));
  CHECK(g.apply(ev) == apply_error::ok);
  ev = envelope();
  *ev.mutable_channel_update() = to_proto(make_channel(3100, {{2100, overwrite_type::role, 1, 0}}));
  CHECK(g.apply(ev) == apply_error::ok);
  ev = envelope();
  ev.mutable_guild_role_delete()->set_role_id(2100);
  CHECK(g.apply(ev) == apply_error::ok);
  CHECK(g.find_channel(3100)->overwrites_.empty());
  ev = envelope();
  ev.mutable_channel_delete()->set_id(3100);
  CHECK(g.apply(ev) == apply_error::ok);
  ev = envelope();
  ev.mutable_guild_member_remove()->set_user_id(5);
  CHECK(g.apply(ev) == apply_error::ok);
  ev = envelope();
  *ev.mutable_guild_update() = to_proto(guild{gid, "new name", owner});
  CHECK(g.apply(ev) == apply_error::ok);
  CHECK(g.info().name_ == "new name");
  ev = envelope();
  auto* typing = ev.mutable_typing_start();
  typing->set_channel_id(general);
  typing->set_user_id(alice);
  CHECK(g.apply(ev) == apply_error::ok);
}

TEST_CASE("envelope_errors_are_reported") {
  auto g = sample_guild();
  CHECK(g.apply(envelope()) == apply_error::empty_event);
  auto ev = envelope(gid + 1);
  ev.mutable_channel_delete()->set_id(general);
  CHECK(g.apply(ev) == apply_error::wrong_guild);
  CHECK(g.find_channel(general) != nullptr);
  ev = envelope();
  auto ch = to_proto(make_channel(3200));
  auto* ow = ch.add_overwrites();
  ow->set_id(mods);
  ow->set_type(static_cast<proto::overwrite_type>(7));
  *ev.mutable_channel_create() = ch;
  CHECK(g.apply(ev) == apply_error::invalid_overwrite);
  ev = envelope();
  auto* msg = ev.mutable_message_update();
  msg->set_channel_id(9);
  CHECK(g.apply(ev) == apply_error::unknown_channel);
  ev = envelope();
  ev.mutable_message_delete()->set_channel_id(general);
  CHECK(g.apply(ev) == apply_error::ok);
}

TEST_CASE("every_apply_error_has_a_distinct_name") {
  std::vector<std::string> names;
  for (int i = 0; i <= static_cast<int>(apply_error::user_mismatch); ++i) {
    names.emplace_back(to_string(static_cast<apply_error>(i)));
  }
  CHECK(names.front() == "ok");
  std::sort(names.begin(), names.end());
  CHECK(std::adjacent_find(names.begin(), names.end()) == names.end());
  CHECK(std::string(to_string(apply_error::unknown_channel)) == "unknown_channel");
}

TEST_CASE("proto_conversion_round_trips_every_value_type") {
  message m;
  m.id_ = 1;
  m.channel_id_ = 2;
  m.guild_id_ = 3;
  m.author_id_ = 4;
  m.content_ = "héllo";
  m.created_at_ = 5;
  m.edited_at_ = 6;
  m.deleted_ = true;
  m.mentions_ = {7, 8};
  m.mention_roles_ = {9};
  m.mention_everyone_ = true;
  CHECK(from_proto(to_proto(m)) == m);
  auto r = make_role(11, perm::all_permissions);
  r.color_ = 0xff00ff;
  r.hoist_ = r.mentionable_ = r.managed_ = true;
  CHECK(from_proto(to_proto(r)) == r);
  auto c = make_channel(12, {{13, overwrite_type::member, 1, 2}, {14, overwrite_type::role, 3, 4}});
  c.guild_id_ = 3;
  c.type_ = 2;
  c.position_ = 5;
  CHECK(from_proto(to_proto(c)) == c);
  CHECK(from_proto(to_proto(make_member(15, {16, 17}))) == make_member(15, {16, 17}));
  CHECK(from_proto(to_proto(guild{18, "g", 19})) == guild{18, "g", 19});
  user bot{20, "bot", true};
  CHECK(from_proto(to_proto(bot)) == bot);
}
