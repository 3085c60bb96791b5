// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "actors/domain/convert.hpp"
#include "actors/permissions/permissions.hpp"

using namespace herald::permissions;
using namespace herald::domain;
namespace proto = herald::proto;

namespace {

constexpr snowflake gid = 100;
constexpr snowflake owner = 1;
constexpr snowflake alice = 2;
constexpr snowflake bob = 3;
constexpr snowflake staff = 200;
constexpr snowflake lobby = 300;
constexpr snowflake secret = 301;

// lobby: visible to all. secret: hidden from @everyone, shown to staff.
// alice is staff, bob is not.
guild_state make_guild() {
  guild_state g(guild{gid, "g", owner});
  REQUIRE(g.create_role(role{staff, "staff", 1, 0}) == apply_error::ok);
  REQUIRE(g.add_member(member{owner, {}, 0}, user{owner, "o", false}) == apply_error::ok);
  REQUIRE(g.add_member(member{alice, {staff}, 0}, user{alice, "a", false}) == apply_error::ok);
  REQUIRE(g.add_member(member{bob, {}, 0}, user{bob, "b", false}) == apply_error::ok);
  channel c;
  c.id_ = lobby;
  REQUIRE(g.create_channel(c) == apply_error::ok);
  c.id_ = secret;
  c.overwrites_ = {{gid, overwrite_type::role, 0, view_channel},
                   {staff, overwrite_type::role, view_channel, 0}};
  REQUIRE(g.create_channel(c) == apply_error::ok);
  return g;
}

// Applies `ev` and returns the view changes, scoped as the dispatch core will.
std::vector<view_change> apply_and_diff(guild_state& g, const proto::event& ev) {
  const auto scope = view_scope(g, ev);
  const auto before = scope ? compute_views(g, *scope) : compute_views(g);
  REQUIRE(g.apply(ev) == apply_error::ok);
  const auto after = scope ? compute_views(g, *scope) : compute_views(g);
  return diff_views(before, after);
}

proto::event envelope() {
  proto::event ev;
  ev.set_guild_id(gid);
  return ev;
}

bool same(const view_change& a, const view_change& b) {
  return a.user_id_ == b.user_id_ && a.channel_id_ == b.channel_id_ && a.visible_ == b.visible_;
}

void check_changes(const std::vector<view_change>& got, const std::vector<view_change>& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO(i);
    CHECK(same(got[i], want[i]));
  }
}

}  // namespace

TEST_CASE("visible_channels_lists_viewable_channels_in_id_order") {
  auto g = make_guild();
  CHECK(visible_channels(g, *g.find_member(alice)) == std::vector<snowflake>{lobby, secret});
  CHECK(visible_channels(g, *g.find_member(bob)) == std::vector<snowflake>{lobby});
  CHECK(visible_channels(g, *g.find_member(owner)) == std::vector<snowflake>{lobby, secret});
  auto views = compute_views(g);
  CHECK(views.size() == 3);
  CHECK(views[bob] == std::vector<snowflake>{lobby});
  auto some = compute_views(g, {bob, 999});
  CHECK(some.size() == 2);
  CHECK(some[999].empty());
}

TEST_CASE("diff_views_reports_gains_and_losses_per_user_in_channel_order") {
  view_map before{{1, {10, 20, 30}}, {2, {10}}};
  view_map after{{1, {15, 20}}, {3, {10}}};
  check_changes(diff_views(before, after),
                {{1, 10, false}, {1, 15, true}, {1, 30, false}, {2, 10, false}, {3, 10, true}});
  CHECK(diff_views(after, after).empty());
}

TEST_CASE("granting_a_role_reveals_its_channels_to_that_member_only") {
  auto g = make_guild();
  auto ev = envelope();
  *ev.mutable_guild_member_update()->mutable_member() = to_proto(member{bob, {staff}, 0});
  CHECK(view_scope(g, ev) == std::vector<snowflake>{bob});
  check_changes(apply_and_diff(g, ev), {{bob, secret, true}});
}

TEST_CASE("changing_a_role_affects_its_holders") {
  auto g = make_guild();
  auto ev = envelope();
  *ev.mutable_guild_role_update() = to_proto(role{staff, "staff", 1, administrator});
  CHECK(view_scope(g, ev) == std::vector<snowflake>{alice});
  CHECK(apply_and_diff(g, ev).empty());  // alice already saw everything
  ev = envelope();
  ev.mutable_guild_role_delete()->set_role_id(staff);
  check_changes(apply_and_diff(g, ev), {{alice, secret, false}});
}

TEST_CASE("changing_everyone_or_an_overwrite_affects_every_member") {
  auto g = make_guild();
  auto ev = envelope();
  *ev.mutable_guild_role_update() = to_proto(role{gid, "@everyone", 0, 0});
  CHECK_FALSE(view_scope(g, ev).has_value());
  // alice keeps secret: the staff overwrite allows VIEW_CHANNEL there.
  check_changes(apply_and_diff(g, ev), {{alice, lobby, false}, {bob, lobby, false}});
  ev = envelope();
  channel open = *g.find_channel(lobby);
  open.overwrites_ = {{gid, overwrite_type::role, view_channel, 0}};
  *ev.mutable_channel_update() = to_proto(open);
  CHECK_FALSE(view_scope(g, ev).has_value());
  check_changes(apply_and_diff(g, ev), {{alice, lobby, true}, {bob, lobby, true}});
}

TEST_CASE("channel_create_and_delete_show_up_as_view_changes") {
  auto g = make_guild();
  auto ev = envelope();
  channel c;
  c.id_ = 302;
  c.overwrites_ = {{bob, overwrite_type::member, 0, view_channel}};
  *ev.mutable_channel_create() = to_proto(c);
  check_changes(apply_and_diff(g, ev), {{owner, 302, true}, {alice, 302, true}});
  ev = envelope();
  ev.mutable_channel_delete()->set_id(secret);
  check_changes(apply_and_diff(g, ev), {{owner, secret, false}, {alice, secret, false}});
}

TEST_CASE("members_joining_and_leaving_gain_and_lose_their_channels") {
  auto g = make_guild();
  auto ev = envelope();
  *ev.mutable_guild_member_add()->mutable_member() = to_proto(member{9, {}, 0});
  *ev.mutable_guild_member_add()->mutable_user() = to_proto(user{9, "n", false});
  check_changes(apply_and_diff(g, ev), {{9, lobby, true}});
  ev = envelope();
  ev.mutable_guild_member_remove()->set_user_id(alice);
  check_changes(apply_and_diff(g, ev), {{alice, lobby, false}, {alice, secret, false}});
}

TEST_CASE("ownership_transfer_scopes_old_and_new_owner") {
  auto g = make_guild();
  auto ev = envelope();
  *ev.mutable_guild_update() = to_proto(guild{gid, "g", bob});
  CHECK(view_scope(g, ev) == std::vector<snowflake>{owner, bob});
  check_changes(apply_and_diff(g, ev), {{owner, secret, false}, {bob, secret, true}});
}

TEST_CASE("messages_and_typing_change_no_views") {
  auto g = make_guild();
  auto ev = envelope();
  ev.mutable_message_create()->set_channel_id(lobby);
  CHECK(view_scope(g, ev) == std::vector<snowflake>{});
  ev = envelope();
  ev.mutable_typing_start()->set_channel_id(lobby);
  CHECK(view_scope(g, ev) == std::vector<snowflake>{});
}
