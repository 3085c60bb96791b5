// SPDX-License-Identifier: Apache-2.0
#include "actors/guild/view_classes.hpp"

#include <algorithm>
#include <catch2/catch.hpp>

#include "actors/permissions/permissions.hpp"
#include "actors/relay/dispatch_event.hpp"

using namespace herald;
using namespace herald::domain;
using herald::guild::view_classes;

namespace {

constexpr snowflake gid = 100;
constexpr snowflake owner = 1;
constexpr snowflake alice = 2;
constexpr snowflake bob = 3;
constexpr snowflake carol = 4;
constexpr snowflake dave = 5;
constexpr snowflake staff = 200;
constexpr snowflake mods = 201;
constexpr snowflake lobby = 300;
constexpr snowflake secret = 301;
constexpr auto view = permissions::view_channel;

// lobby: visible to all. secret: hidden from @everyone, shown to staff.
// alice and carol are staff, bob and dave hold no role.
guild_state make_guild() {
  guild_state g(domain::guild{gid, "g", owner});
  REQUIRE(g.create_role(role{staff, "staff", 1, 0}) == apply_error::ok);
  REQUIRE(g.create_role(role{mods, "mods", 2, 0}) == apply_error::ok);
  for (auto [id, roles] :
       {std::pair{owner, std::vector<snowflake>{}}, std::pair{alice, std::vector<snowflake>{staff}},
        std::pair{bob, std::vector<snowflake>{}}, std::pair{carol, std::vector<snowflake>{staff}},
        std::pair{dave, std::vector<snowflake>{}}}) {
    REQUIRE(g.add_member(member{id, roles, 0}, user{id, "u", false}) == apply_error::ok);
  }
  channel c;
  c.id_ = lobby;
  REQUIRE(g.create_channel(c) == apply_error::ok);
  c.id_ = secret;
  c.overwrites_ = {{gid, overwrite_type::role, 0, view}, {staff, overwrite_type::role, view, 0}};
  REQUIRE(g.create_channel(c) == apply_error::ok);
  return g;
}

bool snapshot_view(const view_classes& vc, snowflake user_id, snowflake channel_id) {
  return vc.snapshot()->can_view(vc.class_of(user_id), vc.slot_of(channel_id));
}

}  // namespace

TEST_CASE("members_with_identical_role_sets_share_a_class") {
  auto g = make_guild();
  view_classes vc(g);
  CHECK(vc.class_of(alice) == vc.class_of(carol));
  CHECK(vc.class_of(bob) == vc.class_of(dave));
  CHECK(vc.class_of(alice) != vc.class_of(bob));
  CHECK(vc.class_count() == 3);  // owner, staff, no role
  CHECK(vc.class_size(vc.class_of(alice)) == 2);
  CHECK(vc.can_view(alice, secret));
  CHECK_FALSE(vc.can_view(bob, secret));
  CHECK(vc.can_view(bob, lobby));
  CHECK(vc.visible_channels(vc.class_of(bob)) == std::vector<snowflake>{lobby});
  CHECK(vc.visible_channels(vc.class_of(alice)) == std::vector<snowflake>{lobby, secret});
  CHECK(vc.class_of(999) == herald::guild::no_view_class);
  CHECK(vc.slot_of(999) == relay::no_channel_slot);
  CHECK_FALSE(vc.can_view(999, lobby));
}

TEST_CASE("a_member_overwrite_gives_its_member_an_own_class") {
  auto g = make_guild();
  channel c = *g.find_channel(lobby);
  c.overwrites_.push_back({dave, overwrite_type::member, 0, view});
  REQUIRE(g.update_channel(c) == apply_error::ok);
  view_classes vc(g);
  CHECK(vc.class_of(dave) != vc.class_of(bob));
  CHECK(vc.class_size(vc.class_of(dave)) == 1);
  CHECK_FALSE(vc.can_view(dave, lobby));
  CHECK(vc.can_view(bob, lobby));
  // Removing the overwrite sends dave back to bob's class.
  c.overwrites_.clear();
  REQUIRE(g.update_channel(c) == apply_error::ok);
  auto change = vc.recompute(g, {});
  CHECK(vc.class_of(dave) == vc.class_of(bob));
  REQUIRE(change.class_changes.size() == 1);
  CHECK(change.class_changes[0] == std::pair<std::uint64_t, std::uint32_t>{dave, vc.class_of(bob)});
  CHECK(change.changed_slots == std::vector<std::uint32_t>{vc.slot_of(lobby)});
}

TEST_CASE("the_owner_has_an_own_class_and_sees_every_channel") {
  auto g = make_guild();
  channel c = *g.find_channel(lobby);
  c.overwrites_ = {{gid, overwrite_type::role, 0, view}};
  REQUIRE(g.update_channel(c) == apply_error::ok);
  view_classes vc(g);
  CHECK(vc.class_of(owner) != vc.class_of(bob));
  CHECK(vc.class_size(vc.class_of(owner)) == 1);
  CHECK(vc.can_view(owner, lobby));
  CHECK(vc.can_view(owner, secret));
  // Ownership moves: the new owner gets a personal class, the old one joins its role set.
  REQUIRE(g.update_guild(domain::guild{gid, "g", bob}) == apply_error::ok);
  auto change = vc.recompute(g, {});
  CHECK(vc.class_of(owner) == vc.class_of(dave));
  CHECK(vc.can_view(bob, secret));
  CHECK_FALSE(vc.can_view(owner, secret));
  CHECK(change.class_changes.size() == 2);
}

TEST_CASE("class_ids_and_slots_stay_stable_across_recomputation") {
  auto g = make_guild();
  view_classes vc(g);
  const auto staff_class = vc.class_of(alice);
  const auto plain_class = vc.class_of(bob);
  const auto lobby_slot = vc.slot_of(lobby);
  const auto secret_slot = vc.slot_of(secret);
  // bob gains mods: a new class is appended, nobody else renumbered.
  REQUIRE(g.update_member(member{bob, {mods}, 0}, std::nullopt) == apply_error::ok);
  vc.recompute(g, {bob});
  CHECK(vc.class_of(bob) == 3);
  CHECK(vc.class_of(alice) == staff_class);
  CHECK(vc.class_of(dave) == plain_class);
  // A new channel takes a new slot; deleting one never frees its slot for reuse.
  channel c;
  c.id_ = 302;
  REQUIRE(g.create_channel(c) == apply_error::ok);
  vc.recompute(g, {});
  CHECK(vc.slot_of(302) == 2);
  REQUIRE(g.delete_channel(lobby) == apply_error::ok);
  vc.recompute(g, {});
  CHECK(vc.slot_of(lobby) == relay::no_channel_slot);
  c.id_ = 303;
  REQUIRE(g.create_channel(c) == apply_error::ok);
  vc.recompute(g, {});
  CHECK(vc.slot_of(303) == 3);
  CHECK(vc.slot_of(secret) == secret_slot);
  CHECK(lobby_slot != vc.slot_of(303));
  // bob back to no role: the old class id, not a new one.
  REQUIRE(g.update_member(member{bob, {}, 0}, std::nullopt) == apply_error::ok);
  vc.recompute(g, {bob});
  CHECK(vc.class_of(bob) == plain_class);
  CHECK(vc.class_count() == 4);
}

TEST_CASE("a_role_permission_change_lists_only_the_slots_it_changed") {
  auto g = make_guild();
  view_classes vc(g);
  const auto before = vc.snapshot();
  // Staff loses the secret channel: only its slot changes, nobody moves.
  channel c = *g.find_channel(secret);
  c.overwrites_ = {{gid, overwrite_type::role, 0, view}};
  REQUIRE(g.update_channel(c) == apply_error::ok);
  auto change = vc.recompute(g, {});
  CHECK(change.class_changes.empty());
  CHECK(change.changed_slots == std::vector<std::uint32_t>{vc.slot_of(secret)});
  CHECK(change.channel_of_slot(vc.slot_of(secret)) == secret);
  CHECK(change.channel_of_slot(vc.slot_of(lobby)) == 0);
  CHECK(before->can_view(vc.class_of(alice), vc.slot_of(secret)));
  CHECK_FALSE(change.snapshot->can_view(vc.class_of(alice), vc.slot_of(secret)));
  CHECK(change.snapshot == vc.snapshot());
  // Nothing changed at all: an empty diff.
  CHECK(vc.recompute(g, {}).empty());
  // A role update that grants nothing new also lists nothing.
  role r = *g.find_role(mods);
  r.permissions_ = permissions::send_messages;
  REQUIRE(g.update_role(r) == apply_error::ok);
  CHECK(vc.recompute(g, {}).empty());
}

TEST_CASE("a_member_role_change_lists_the_member_and_the_slots_its_view_changed") {
  auto g = make_guild();
  view_classes vc(g);
  REQUIRE(g.update_member(member{bob, {staff}, 0}, std::nullopt) == apply_error::ok);
  auto change = vc.recompute(g, {bob});
  REQUIRE(change.class_changes.size() == 1);
  CHECK(change.class_changes[0].first == bob);
  CHECK(change.class_changes[0].second == vc.class_of(alice));
  CHECK(change.changed_slots == std::vector<std::uint32_t>{vc.slot_of(secret)});
}

TEST_CASE("channel_create_and_delete_list_their_slots_with_the_channel_id") {
  auto g = make_guild();
  view_classes vc(g);
  channel c;
  c.id_ = 302;
  REQUIRE(g.create_channel(c) == apply_error::ok);
  auto created = vc.recompute(g, {});
  CHECK(created.changed_slots == std::vector<std::uint32_t>{2});
  CHECK(created.channel_of_slot(2) == 302);
  CHECK(snapshot_view(vc, bob, 302));
  REQUIRE(g.delete_channel(secret) == apply_error::ok);
  auto deleted = vc.recompute(g, {});
  CHECK(deleted.changed_slots == std::vector<std::uint32_t>{1});
  CHECK(deleted.channel_of_slot(1) == secret);
  CHECK_FALSE(deleted.snapshot->can_view(vc.class_of(alice), 1));
}

TEST_CASE("a_deleted_role_moves_its_holders_without_being_told") {
  auto g = make_guild();
  view_classes vc(g);
  const auto plain = vc.class_of(bob);
  REQUIRE(g.delete_role(staff) == apply_error::ok);
  auto change = vc.recompute(g, {});
  CHECK(vc.class_of(alice) == plain);
  CHECK(vc.class_of(carol) == plain);
  CHECK(change.class_changes.size() == 2);
  CHECK_FALSE(vc.can_view(alice, secret));
}

TEST_CASE("joined_and_departed_members_are_placed_and_dropped") {
  auto g = make_guild();
  view_classes vc(g);
  REQUIRE(g.add_member(member{6, {staff}, 0}, user{6, "f", false}) == apply_error::ok);
  REQUIRE(g.remove_member(carol) == apply_error::ok);
  auto change = vc.recompute(g, {6, carol});
  CHECK(vc.class_of(6) == vc.class_of(alice));
  CHECK(vc.class_of(carol) == herald::guild::no_view_class);
  REQUIRE(change.class_changes.size() == 1);
  CHECK(change.class_changes[0].first == 6);
  CHECK(change.changed_slots.empty());
  auto map = vc.class_map();
  CHECK(map->size() == g.member_count());
  CHECK(map->count(carol) == 0);
  CHECK(map->at(6) == vc.class_of(alice));
}
