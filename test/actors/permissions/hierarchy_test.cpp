// SPDX-License-Identifier: Apache-2.0
// The role hierarchy (actors/permissions/hierarchy.hpp): who outranks whom for a kick.
#include <catch2/catch.hpp>

#include "actors/permissions/hierarchy.hpp"

using namespace herald::permissions;
using namespace herald::domain;

namespace {

constexpr snowflake gid = 100;
constexpr snowflake owner = 1;
constexpr snowflake high = 200;    // position 5
constexpr snowflake low = 201;     // position 1
constexpr snowflake twin_a = 202;  // position 3
constexpr snowflake twin_b = 203;  // position 3, higher id: ranks below twin_a

member with_roles(snowflake user, std::vector<snowflake> roles) {
  return member{user, std::move(roles), 0};
}

guild_state make_guild() {
  guild_state g(guild{gid, "g", owner});
  REQUIRE(g.create_role(role{high, "high", 5, 0}) == apply_error::ok);
  REQUIRE(g.create_role(role{low, "low", 1, 0}) == apply_error::ok);
  REQUIRE(g.create_role(role{twin_b, "twin b", 3, 0}) == apply_error::ok);
  REQUIRE(g.create_role(role{twin_a, "twin a", 3, 0}) == apply_error::ok);
  return g;
}

}  // namespace

TEST_CASE("a_higher_highest_role_outranks_a_lower_one_and_not_the_other_way") {
  auto g = make_guild();
  auto boss = with_roles(2, {low, high});  // the highest role counts, not the first
  auto clerk = with_roles(3, {low});
  CHECK(outranks(g, boss, clerk));
  CHECK_FALSE(outranks(g, clerk, boss));
}

TEST_CASE("members_with_the_same_highest_role_do_not_outrank_each_other") {
  auto g = make_guild();
  auto a = with_roles(2, {low});
  auto b = with_roles(3, {low});
  CHECK_FALSE(outranks(g, a, b));
  CHECK_FALSE(outranks(g, b, a));
  CHECK_FALSE(outranks(g, a, a));
}

TEST_CASE("of_two_roles_at_one_position_the_lower_id_ranks_higher") {
  auto g = make_guild();
  auto a = with_roles(2, {twin_a});
  auto b = with_roles(3, {twin_b});
  CHECK(outranks(g, a, b));
  CHECK_FALSE(outranks(g, b, a));
}

TEST_CASE("any_role_even_at_position_0_outranks_a_member_with_only_everyone") {
  auto g = make_guild();
  constexpr snowflake zero = 900;  // a role id above the guild's, at @everyone's position
  REQUIRE(g.create_role(role{zero, "zero", 0, 0}) == apply_error::ok);
  auto roled = with_roles(2, {zero});
  auto plain = with_roles(3, {});
  CHECK(outranks(g, roled, plain));
  CHECK_FALSE(outranks(g, plain, roled));
  CHECK_FALSE(outranks(g, plain, with_roles(4, {})));
}

TEST_CASE("the_owner_outranks_everyone_and_nobody_outranks_the_owner") {
  auto g = make_guild();
  auto own = with_roles(owner, {});
  auto top = with_roles(2, {high});
  CHECK(outranks(g, own, top));
  CHECK_FALSE(outranks(g, top, own));
}

TEST_CASE("a_role_id_the_guild_does_not_know_gives_no_rank") {
  auto g = make_guild();
  auto ghost = with_roles(2, {12345});
  auto clerk = with_roles(3, {low});
  CHECK_FALSE(outranks(g, ghost, clerk));
  CHECK(outranks(g, clerk, ghost));
}
