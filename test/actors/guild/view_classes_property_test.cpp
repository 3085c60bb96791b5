// SPDX-License-Identifier: Apache-2.0
// Randomized mutations of a guild: after every incremental recompute the
// snapshot must agree with permissions::channel_permissions for every
// (member, channel), class ids must never be renumbered, and the diff must
// list exactly the moved members and every slot a subscriber's view changed.
#include <catch2/catch.hpp>
#include <chrono>
#include <iostream>
#include <map>
#include <random>
#include <set>

#include "actors/guild/view_classes.hpp"
#include "actors/permissions/permissions.hpp"
#include "actors/relay/dispatch_event.hpp"

using namespace herald;
using namespace herald::domain;
using herald::guild::view_classes;

namespace {

constexpr snowflake gid = 1000;

struct fuzzer {
  std::mt19937_64 rng;
  guild_state g{domain::guild{gid, "g", 1}};
  snowflake next_id = 5000;

  explicit fuzzer(std::uint64_t seed) : rng(seed) {}

  std::size_t pick(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  }
  bool chance(int percent) { return static_cast<int>(pick(100)) < percent; }

  permissions::bits random_bits() {
    static constexpr permissions::bits menu[] = {
        0, permissions::view_channel, permissions::send_messages,
        permissions::view_channel | permissions::send_messages};
    permissions::bits b = menu[pick(4)];
    if (chance(3)) {
      b |= permissions::administrator;
    }
    return b;
  }

  std::vector<snowflake> random_roles() {
    std::vector<snowflake> out;
    for (const auto& r : g.roles()) {
      if (r.id_ != gid && chance(30)) {
        out.push_back(r.id_);
      }
    }
    return out;
  }

  snowflake random_member() {
    auto it = g.members().begin();
    std::advance(it, static_cast<long>(pick(g.member_count())));
    return it->first;
  }

  std::vector<permission_overwrite> random_overwrites() {
    std::vector<permission_overwrite> out;
    for (const auto& r : g.roles()) {
      if (chance(25)) {
        out.push_back({r.id_, overwrite_type::role, random_bits(), random_bits()});
      }
    }
    if (chance(30)) {
      out.push_back({random_member(), overwrite_type::member, random_bits(), random_bits()});
    }
    return out;
  }

  // Applies one random mutation; returns the users the caller must report.
  std::vector<snowflake> mutate() {
    switch (pick(10)) {
      case 0: {
        role r{next_id++, "r", 1, random_bits()};
        REQUIRE(g.create_role(r) == apply_error::ok);
        return {};
      }
      case 1: {
        role r = g.roles()[pick(g.roles().size())];
        r.permissions_ = random_bits();
        REQUIRE(g.update_role(r) == apply_error::ok);
        return {};
      }
      case 2: {
        const auto& r = g.roles()[pick(g.roles().size())];
        if (r.id_ != gid) {
          REQUIRE(g.delete_role(r.id_) == apply_error::ok);
        }
        return {};
      }
      case 3: {
        const snowflake id = next_id++;
        REQUIRE(g.add_member(member{id, random_roles(), 0}, user{id, "u", false}) ==
                apply_error::ok);
        return {id};
      }
      case 4: {
        const snowflake id = random_member();
        if (id != g.info().owner_id_) {
          REQUIRE(g.remove_member(id) == apply_error::ok);
        }
        return {id};
      }
      case 5:
      case 6: {
        const snowflake id = random_member();
        REQUIRE(g.update_member(member{id, random_roles(), 0}, std::nullopt) == apply_error::ok);
        return {id};
      }
      case 7: {
        channel c;
        c.id_ = next_id++;
        c.overwrites_ = random_overwrites();
        REQUIRE(g.create_channel(c) == apply_error::ok);
        return {};
      }
      case 8: {
        if (g.channels().empty()) {
          return {};
        }
        channel c = g.channels()[pick(g.channels().size())];
        if (chance(20)) {
          REQUIRE(g.delete_channel(c.id_) == apply_error::ok);
        } else {
          c.overwrites_ = random_overwrites();
          REQUIRE(g.update_channel(c) == apply_error::ok);
        }
        return {};
      }
      default: {
        if (chance(30)) {
          REQUIRE(g.update_guild(domain::guild{gid, "g", random_member()}) == apply_error::ok);
        }
        return {};
      }
    }
  }
};

void check_against_permissions(const guild_state& g, const view_classes& vc) {
  for (const auto& [user_id, entry] : g.members()) {
    const auto cls = vc.class_of(user_id);
    REQUIRE(cls != herald::guild::no_view_class);
    for (const auto& ch : g.channels()) {
      const bool expected = permissions::has(permissions::channel_permissions(g, ch, entry.member_),
                                             permissions::view_channel);
      INFO("user " << user_id << " channel " << ch.id_);
      REQUIRE(vc.snapshot()->can_view(cls, vc.slot_of(ch.id_)) == expected);
      REQUIRE(vc.can_view(user_id, ch.id_) == expected);
    }
  }
}

}  // namespace

TEST_CASE("snapshot_bits_match_channel_permissions_under_random_mutations") {
  for (std::uint64_t seed = 1; seed <= 12; ++seed) {
    fuzzer f(seed);
    for (snowflake id = 1; id <= 25; ++id) {
      REQUIRE(f.g.add_member(member{id, {}, 0}, user{id, "u", false}) == apply_error::ok);
    }
    for (int i = 0; i < 4; ++i) {
      f.mutate();
    }
    view_classes vc(f.g);
    check_against_permissions(f.g, vc);
    std::map<std::vector<snowflake>, std::uint32_t> class_of_role_set;  // ids must never change
    std::map<snowflake, std::uint32_t> slot_of_channel;
    for (int step = 0; step < 150; ++step) {
      INFO("seed " << seed << " step " << step);
      const auto old_snapshot = vc.snapshot();
      const auto old_map = vc.class_map();
      const auto touched = f.mutate();
      const auto change = vc.recompute(f.g, touched);
      check_against_permissions(f.g, vc);

      // Exactly the members whose class changed, joiners included.
      const auto new_map = vc.class_map();
      std::vector<std::pair<std::uint64_t, std::uint32_t>> moved;
      for (const auto& [user_id, cls] : *new_map) {
        auto old = old_map->find(user_id);
        if (old == old_map->end() || old->second != cls) {
          moved.emplace_back(user_id, cls);
        }
      }
      std::sort(moved.begin(), moved.end());
      REQUIRE(change.class_changes == moved);

      // Every slot where an existing class, or a member that moved, sees
      // differently — and no other.
      std::set<std::uint32_t> expected_slots;
      for (std::uint32_t slot = 0; slot < vc.slot_count(); ++slot) {
        for (std::uint32_t c = 0; c < old_snapshot->classes(); ++c) {
          if (old_snapshot->can_view(c, slot) != change.snapshot->can_view(c, slot)) {
            expected_slots.insert(slot);
          }
        }
        for (const auto& [user_id, cls] : *new_map) {
          auto old = old_map->find(user_id);
          if (old != old_map->end() &&
              old_snapshot->can_view(old->second, slot) != change.snapshot->can_view(cls, slot)) {
            expected_slots.insert(slot);
          }
        }
      }
      REQUIRE(std::vector<std::uint32_t>(expected_slots.begin(), expected_slots.end()) ==
              change.changed_slots);

      // Role-set classes and channel slots keep their numbers.
      std::set<snowflake> personal{f.g.info().owner_id_};
      for (const auto& ch : f.g.channels()) {
        for (const auto& ow : ch.overwrites_) {
          if (ow.type_ == overwrite_type::member) {
            personal.insert(ow.id_);
          }
        }
      }
      for (const auto& [user_id, entry] : f.g.members()) {
        if (personal.count(user_id) != 0) {
          CHECK(vc.class_size(vc.class_of(user_id)) == 1);
        } else {
          auto [it, added] =
              class_of_role_set.emplace(entry.member_.role_ids_, vc.class_of(user_id));
          REQUIRE(it->second == vc.class_of(user_id));
        }
      }
      for (const auto& ch : f.g.channels()) {
        auto [it, added] = slot_of_channel.emplace(ch.id_, vc.slot_of(ch.id_));
        REQUIRE(it->second == vc.slot_of(ch.id_));
      }
    }
    // Incremental and full recomputation agree on everything.
    view_classes fresh(f.g);
    for (const auto& [user_id, entry] : f.g.members()) {
      for (const auto& ch : f.g.channels()) {
        REQUIRE(fresh.can_view(user_id, ch.id_) == vc.can_view(user_id, ch.id_));
      }
    }
    CHECK(vc.recompute(f.g).empty());
  }
}

TEST_CASE("a_million_member_guild_recomputes_a_role_change_quickly") {
  // 50 distinct role sets over 20 roles, 100 channels with role overwrites.
  guild_state g(domain::guild{gid, "big", 1});
  for (snowflake r = 1; r <= 20; ++r) {
    REQUIRE(g.create_role(role{gid + r, "r", 1, 0}) == apply_error::ok);
  }
  std::vector<std::vector<snowflake>> sets;
  for (snowflake a = 1; a <= 20 && sets.size() < 50; ++a) {
    for (snowflake b = a + 1; b <= 20 && sets.size() < 50; ++b) {
      sets.push_back({gid + a, gid + b});
    }
  }
  for (snowflake c = 0; c < 100; ++c) {
    channel ch;
    ch.id_ = 10'000'000 + c;
    ch.overwrites_ = {{gid, overwrite_type::role, 0, permissions::view_channel},
                      {gid + 1 + c % 20, overwrite_type::role, permissions::view_channel, 0}};
    REQUIRE(g.create_channel(ch) == apply_error::ok);
  }
  constexpr snowflake members = 1'000'000;
  for (snowflake id = 1; id <= members; ++id) {
    g.restore_member(member{id, sets[id % 50], 0}, user{id, "", false});
  }
  using clock = std::chrono::steady_clock;
  auto t0 = clock::now();
  view_classes vc(g);
  auto t1 = clock::now();
  CHECK(vc.class_count() == 51);  // the owner's own class and the 50 role sets
  role r = *g.find_role(gid + 5);
  r.permissions_ = permissions::administrator;
  REQUIRE(g.update_role(r) == apply_error::ok);
  auto t2 = clock::now();
  auto change = vc.recompute(g, {});
  auto t3 = clock::now();
  REQUIRE(g.update_member(member{7, {gid + 5}, 0}, std::nullopt) == apply_error::ok);
  auto t4 = clock::now();
  auto moved = vc.recompute(g, {7});
  auto t5 = clock::now();
  auto full = vc.recompute(g);
  auto t6 = clock::now();
  CHECK(full.empty());
  auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
  std::cout << "view_classes, 1M members, 50 role sets, 100 channels: build " << ms(t0, t1)
            << " ms, role permission change " << ms(t2, t3) << " ms, one member's roles "
            << ms(t4, t5) << " ms, full member scan " << ms(t5, t6) << " ms, classes "
            << vc.class_count() << "\n";
  CHECK(vc.class_count() == 52);  // member 7's new role set appended
  CHECK(change.class_changes.empty());
  CHECK_FALSE(change.changed_slots.empty());
  CHECK(moved.class_changes.size() == 1);
  CHECK(vc.can_view(7, 10'000'000));
}
