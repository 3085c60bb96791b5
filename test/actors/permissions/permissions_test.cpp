// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>

#include "actors/permissions/permissions.hpp"

using namespace herald::permissions;
using namespace herald::domain;

namespace {

constexpr snowflake gid = 100;
constexpr snowflake owner = 1;
constexpr snowflake alice = 2;
constexpr snowflake bob = 3;
constexpr snowflake red = 200;
constexpr snowflake blue = 201;
constexpr snowflake admins = 202;
constexpr snowflake chan = 300;

permission_overwrite role_ow(snowflake id, bits allow, bits deny) {
  return {id, overwrite_type::role, allow, deny};
}

permission_overwrite member_ow(snowflake id, bits allow, bits deny) {
  return {id, overwrite_type::member, allow, deny};
}

// @everyone: view + send + history. red: manage messages. blue: embed links.
// admins: ADMINISTRATOR. alice has red and blue, bob has none.
guild_state make_guild(bits everyone = view_channel | send_messages | read_message_history) {
  guild_state g(guild{gid, "g", owner});
  role e = g.everyone_role();
  e.permissions_ = everyone;
  REQUIRE(g.update_role(e) == apply_error::ok);
  REQUIRE(g.create_role(role{red, "red", 1, manage_messages}) == apply_error::ok);
  REQUIRE(g.create_role(role{blue, "blue", 2, embed_links}) == apply_error::ok);
  REQUIRE(g.create_role(role{admins, "admins", 3, administrator}) == apply_error::ok);
  REQUIRE(g.add_member(member{owner, {}, 0}, user{owner, "o", false}) == apply_error::ok);
  REQUIRE(g.add_member(member{alice, {red, blue}, 0}, user{alice, "a", false}) == apply_error::ok);
  REQUIRE(g.add_member(member{bob, {}, 0}, user{bob, "b", false}) == apply_error::ok);
  channel c;
  c.id_ = chan;
  REQUIRE(g.create_channel(c) == apply_error::ok);
  return g;
}

void set_overwrites(guild_state& g, std::vector<permission_overwrite> ows) {
  channel c = *g.find_channel(chan);
  c.overwrites_ = std::move(ows);
  REQUIRE(g.update_channel(c) == apply_error::ok);
}

bits in_chan(const guild_state& g, snowflake user_id) {
  return channel_permissions(g, chan, user_id);
}

}  // namespace

TEST_CASE("base_permissions_are_everyone_or_the_member_roles") {
  auto g = make_guild();
  const bits everyone = view_channel | send_messages | read_message_history;
  CHECK(base_permissions(g, *g.find_member(bob)) == everyone);
  CHECK(base_permissions(g, *g.find_member(alice)) == (everyone | manage_messages | embed_links));
}

TEST_CASE("the_owner_has_every_permission_whatever_the_overwrites") {
  auto g = make_guild(0);
  set_overwrites(g, {role_ow(gid, 0, all_permissions), member_ow(owner, 0, all_permissions)});
  CHECK(base_permissions(g, *g.find_member(owner)) == all_permissions);
  CHECK(in_chan(g, owner) == all_permissions);
}

TEST_CASE("administrator_from_a_role_grants_all_and_ignores_overwrites") {
  auto g = make_guild(0);
  REQUIRE(g.update_member(member{bob, {admins}, 0}, std::nullopt) == apply_error::ok);
  set_overwrites(g, {role_ow(gid, 0, view_channel), role_ow(admins, 0, all_permissions),
                     member_ow(bob, 0, all_permissions)});
  CHECK(base_permissions(g, *g.find_member(bob)) == all_permissions);
  CHECK(in_chan(g, bob) == all_permissions);
}

TEST_CASE("administrator_on_everyone_makes_every_member_an_administrator") {
  auto g = make_guild(administrator);
  CHECK(in_chan(g, bob) == all_permissions);
}

TEST_CASE("administrator_allowed_by_an_overwrite_grants_nothing_extra") {
  auto g = make_guild();
  set_overwrites(g, {member_ow(bob, administrator, 0)});
  const bits got = in_chan(g, bob);
  CHECK(has(got, administrator));
  CHECK_FALSE(has(got, manage_channels));
}

TEST_CASE("everyone_overwrite_denies_then_allows") {
  auto g = make_guild();
  set_overwrites(g, {role_ow(gid, add_reactions, send_messages)});
  const bits got = in_chan(g, bob);
  CHECK_FALSE(has(got, send_messages));
  CHECK(has(got, add_reactions));
  CHECK(has(got, view_channel | read_message_history));
}

TEST_CASE("everyone_overwrite_allow_wins_over_its_own_deny") {
  auto g = make_guild();
  set_overwrites(g, {role_ow(gid, send_messages, send_messages)});
  CHECK(has(in_chan(g, bob), send_messages));
}

TEST_CASE("role_overwrite_allow_beats_everyone_overwrite_deny") {
  auto g = make_guild();
  set_overwrites(g, {role_ow(red, send_messages, 0), role_ow(gid, 0, send_messages)});
  CHECK(has(in_chan(g, alice), send_messages));
  CHECK_FALSE(has(in_chan(g, bob), send_messages));
}

TEST_CASE("role_overwrite_deny_beats_everyone_overwrite_allow") {
  auto g = make_guild(view_channel);
  set_overwrites(g, {role_ow(gid, send_messages, 0), role_ow(blue, 0, send_messages)});
  CHECK_FALSE(has(in_chan(g, alice), send_messages));
  CHECK(has(in_chan(g, bob), send_messages));
}

TEST_CASE("allow_wins_over_deny_across_the_member_roles") {
  auto g = make_guild();
  // red denies send, blue allows it: combined deny then allow -> allowed,
  // whichever order the overwrites are listed in.
  set_overwrites(g, {role_ow(red, 0, send_messages), role_ow(blue, send_messages, 0)});
  CHECK(has(in_chan(g, alice), send_messages));
  set_overwrites(g, {role_ow(blue, send_messages, 0), role_ow(red, 0, send_messages)});
  CHECK(has(in_chan(g, alice), send_messages));
}

TEST_CASE("overwrites_of_roles_the_member_lacks_do_not_apply") {
  auto g = make_guild();
  set_overwrites(g, {role_ow(red, 0, send_messages), role_ow(admins, 0, view_channel)});
  CHECK(has(in_chan(g, bob), send_messages | view_channel));
  CHECK_FALSE(has(in_chan(g, alice), send_messages));
}

TEST_CASE("member_overwrite_beats_role_overwrites") {
  auto g = make_guild();
  set_overwrites(g, {role_ow(red, send_messages, 0), member_ow(alice, 0, send_messages)});
  CHECK_FALSE(has(in_chan(g, alice), send_messages));
  set_overwrites(g, {role_ow(red, 0, send_messages), member_ow(alice, send_messages, 0),
                     role_ow(gid, 0, send_messages)});
  CHECK(has(in_chan(g, alice), send_messages));
}

TEST_CASE("another_members_overwrite_does_not_apply") {
  auto g = make_guild();
  set_overwrites(g, {member_ow(alice, 0, send_messages)});
  CHECK(has(in_chan(g, bob), send_messages));
}

TEST_CASE("overwrites_apply_in_documented_order_whatever_the_list_order") {
  auto g = make_guild(view_channel);
  std::vector<permission_overwrite> ows = {
      role_ow(gid, send_messages | add_reactions, read_message_history),
      role_ow(red, read_message_history, send_messages),
      role_ow(blue, 0, add_reactions),
      member_ow(alice, add_reactions, 0),
  };
  // red's manage_messages stays; blue's embed_links goes with send_messages.
  const bits expected = view_channel | read_message_history | add_reactions | manage_messages;
  std::sort(ows.begin(), ows.end(), [](const auto& a, const auto& b) { return a.id_ < b.id_; });
  do {
    set_overwrites(g, ows);
    REQUIRE(in_chan(g, alice) == expected);
  } while (std::next_permutation(ows.begin(), ows.end(),
                                 [](const auto& a, const auto& b) { return a.id_ < b.id_; }));
}

TEST_CASE("no_view_channel_means_no_permission_in_the_channel") {
  auto g = make_guild(all_permissions & ~administrator);
  set_overwrites(g, {role_ow(gid, 0, view_channel)});
  CHECK(in_chan(g, bob) == 0);
  set_overwrites(g, {role_ow(gid, 0, view_channel), member_ow(bob, view_channel, 0)});
  CHECK(has(in_chan(g, bob), view_channel | send_messages | manage_messages));
}

TEST_CASE("no_send_messages_implicitly_drops_tts_mentions_embeds_and_files") {
  const bits implied = send_tts_messages | mention_everyone | embed_links | attach_files;
  auto g = make_guild(view_channel | send_messages | implied | add_reactions);
  CHECK(has(in_chan(g, bob), implied));
  set_overwrites(g, {role_ow(gid, 0, send_messages)});
  const bits got = in_chan(g, bob);
  CHECK((got & implied) == 0);
  CHECK(has(got, view_channel | add_reactions));
}

TEST_CASE("channel_permissions_by_id_are_zero_for_strangers_and_unknown_channels") {
  auto g = make_guild();
  CHECK(channel_permissions(g, chan, 999) == 0);
  CHECK(channel_permissions(g, 999, alice) == 0);
}

TEST_CASE("all_permissions_covers_every_named_bit") {
  for (bits b : {create_instant_invite, administrator, view_channel, send_messages,
                 read_message_history, mention_everyone, moderate_members, send_voice_messages,
                 send_polls, use_external_apps, pin_messages}) {
    CHECK(has(all_permissions, b));
  }
  CHECK_FALSE(has(all_permissions, bits{1} << 47));
  CHECK(has(all_permissions, default_everyone));
}
