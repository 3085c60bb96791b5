// SPDX-License-Identifier: Apache-2.0
// PIN_MESSAGES (bit 51) and Discord's split of it from MANAGE_MESSAGES: pin_split_of, the rule
// the store's pin-split migration applies to every stored role and overwrite, must leave every
// member able to pin exactly where MANAGE_MESSAGES allowed it before, and change nothing else.
#include <catch2/catch.hpp>

#include <random>

#include "actors/permissions/permissions.hpp"

using namespace herald::permissions;
using namespace herald::domain;

namespace {

constexpr snowflake gid = 1;
constexpr snowflake chan = 500;

// Bits that interact in the algorithm (VIEW and SEND implicit rules, ADMINISTRATOR) plus
// MANAGE_MESSAGES; never PIN_MESSAGES: stores written before the split could not hold it.
bits random_legacy_bits(std::mt19937_64& rng, bool may_admin) {
  static const bits pool[] = {view_channel, send_messages, read_message_history, manage_messages,
                              embed_links};
  bits out = 0;
  for (bits b : pool) {
    if (rng() % 2 == 0) {
      out |= b;
    }
  }
  if (may_admin && rng() % 30 == 0) {
    out |= administrator;
  }
  return out;
}

guild_state random_guild(std::mt19937_64& rng, int& members) {
  members = 1 + static_cast<int>(rng() % 5);
  const int roles = static_cast<int>(rng() % 4);
  guild_state g(guild{gid, "g", 10 + rng() % (members + 2)});
  role everyone = g.everyone_role();
  everyone.permissions_ = random_legacy_bits(rng, true);
  REQUIRE(g.update_role(everyone) == apply_error::ok);
  for (int r = 0; r < roles; ++r) {
    REQUIRE(g.create_role(role{static_cast<snowflake>(100 + r), "r", r,
                               random_legacy_bits(rng, true)}) == apply_error::ok);
  }
  for (int m = 0; m < members; ++m) {
    member value{static_cast<snowflake>(10 + m), {}, 0};
    for (int r = 0; r < roles; ++r) {
      if (rng() % 2 == 0) {
        value.role_ids_.push_back(100 + r);
      }
    }
    REQUIRE(g.add_member(value, user{value.user_id_, "u", false}) == apply_error::ok);
  }
  channel ch;
  ch.id_ = chan;
  auto maybe = [&](overwrite_type type, snowflake id) {
    if (rng() % 2 == 0) {
      ch.overwrites_.push_back(
          {id, type, random_legacy_bits(rng, false), random_legacy_bits(rng, false)});
    }
  };
  maybe(overwrite_type::role, gid);
  for (int r = 0; r < roles; ++r) {
    maybe(overwrite_type::role, 100 + r);
  }
  for (int m = 0; m < members; ++m) {
    maybe(overwrite_type::member, 10 + m);
  }
  REQUIRE(g.create_channel(ch) == apply_error::ok);
  return g;
}

// What the store migration does to a guild: pin_split_of on every role and overwrite value.
guild_state split(guild_state g) {
  std::vector<role> roles(g.roles().begin(), g.roles().end());
  for (auto r : roles) {
    r.permissions_ = pin_split_of(r.permissions_);
    REQUIRE(g.update_role(r) == apply_error::ok);
  }
  channel ch = *g.find_channel(chan);
  for (auto& ow : ch.overwrites_) {
    ow.allow_ = pin_split_of(ow.allow_);
    ow.deny_ = pin_split_of(ow.deny_);
  }
  REQUIRE(g.update_channel(ch) == apply_error::ok);
  return g;
}

}  // namespace

TEST_CASE("pin_messages_is_bit_51_and_part_of_every_permission") {
  CHECK(pin_messages == (bits{1} << 51));
  CHECK(has(all_permissions, pin_messages));
  CHECK_FALSE(has(default_everyone, pin_messages));
}

TEST_CASE("pin_split_adds_pin_messages_only_where_manage_messages_is") {
  CHECK(pin_split_of(manage_messages) == (manage_messages | pin_messages));
  CHECK(pin_split_of(view_channel | manage_messages) ==
        (view_channel | manage_messages | pin_messages));
  CHECK(pin_split_of(view_channel | send_messages) == (view_channel | send_messages));
  CHECK(pin_split_of(0) == 0);
  CHECK(pin_split_of(pin_messages) == pin_messages);
  CHECK(pin_split_of(pin_split_of(manage_messages)) == pin_split_of(manage_messages));
}

TEST_CASE("after_the_split_members_may_pin_exactly_where_manage_messages_allowed_it") {
  std::mt19937_64 rng(20261204);
  int compared = 0;
  for (int iteration = 0; iteration < 2000; ++iteration) {
    int members = 0;
    auto before = random_guild(rng, members);
    auto after = split(before);
    for (int m = 0; m < members; ++m) {
      const snowflake user_id = 10 + m;
      INFO("iteration " << iteration << " user " << user_id);
      const bits old_perms = channel_permissions(before, chan, user_id);
      const bits new_perms = channel_permissions(after, chan, user_id);
      REQUIRE(has(new_perms, pin_messages) == has(old_perms, manage_messages));
      REQUIRE((new_perms & ~pin_messages) == (old_perms & ~pin_messages));
      ++compared;
    }
  }
  CHECK(compared > 2000);
}

TEST_CASE("after_the_split_manage_messages_alone_does_not_allow_pinning") {
  guild_state g(guild{gid, "g", 10});
  role everyone = g.everyone_role();
  everyone.permissions_ = view_channel | send_messages;
  REQUIRE(g.update_role(everyone) == apply_error::ok);
  REQUIRE(g.create_role(role{100, "mods", 1, manage_messages}) == apply_error::ok);
  REQUIRE(g.create_role(role{101, "pinners", 2, pin_messages}) == apply_error::ok);
  REQUIRE(g.add_member(member{10, {}, 0}, user{10, "owner", false}) == apply_error::ok);
  REQUIRE(g.add_member(member{11, {100}, 0}, user{11, "mod", false}) == apply_error::ok);
  REQUIRE(g.add_member(member{12, {101}, 0}, user{12, "pinner", false}) == apply_error::ok);
  channel ch;
  ch.id_ = chan;
  REQUIRE(g.create_channel(ch) == apply_error::ok);
  CHECK_FALSE(has(channel_permissions(g, chan, 11), pin_messages));
  CHECK(has(channel_permissions(g, chan, 12), pin_messages));
  CHECK(has(channel_permissions(g, chan, 10), pin_messages));  // the owner
}
