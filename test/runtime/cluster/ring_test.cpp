// SPDX-License-Identifier: Apache-2.0
// The guild ring: balance, minimal movement on join and leave, and one answer per membership.
#include <catch2/catch.hpp>

#include <map>
#include <vector>

#include "runtime/cluster/ring.hpp"

using herald::cluster::ring;

namespace {

/// Snowflake-like guild ids: consecutive milliseconds, a few per ms, node bits 0.
std::vector<uint64_t> guild_ids(size_t n) {
  std::vector<uint64_t> out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(((uint64_t{378000000000} + i / 4) << 22) | (i % 4));
  }
  return out;
}

std::map<uint16_t, size_t> shares(const ring& r, const std::vector<uint64_t>& ids) {
  std::map<uint16_t, size_t> out;
  for (auto id : ids) {
    ++out[*r.owner(id)];
  }
  return out;
}

}  // namespace

TEST_CASE("every_node_gets_its_fair_share_of_guilds_within_a_quarter") {
  auto ids = guild_ids(100000);
  for (std::vector<uint16_t> nodes :
       {std::vector<uint16_t>{1, 2, 3}, std::vector<uint16_t>{0, 5, 9, 17, 1023},
        std::vector<uint16_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}}) {
    ring r{nodes, 256, 1};
    auto counts = shares(r, ids);
    REQUIRE(counts.size() == nodes.size());
    double fair = static_cast<double>(ids.size()) / static_cast<double>(nodes.size());
    for (const auto& [node, count] : counts) {
      INFO("node " << node << " of " << nodes.size() << " owns " << count);
      CHECK(count > 0.75 * fair);
      CHECK(count < 1.25 * fair);
    }
  }
}

TEST_CASE("a_joining_node_takes_guilds_only_for_itself_and_about_its_share") {
  auto ids = guild_ids(50000);
  ring before{{1, 2, 3}, 256, 1};
  ring after{{1, 2, 3, 4}, 256, 2};
  size_t moved = 0;
  for (auto id : ids) {
    if (before.owner(id) != after.owner(id)) {
      ++moved;
      REQUIRE(after.owner(id) == 4);
    }
  }
  double fraction = static_cast<double>(moved) / static_cast<double>(ids.size());
  CHECK(fraction > 0.15);
  CHECK(fraction < 0.35);
}

TEST_CASE("a_leaving_node_hands_over_only_its_own_guilds") {
  auto ids = guild_ids(50000);
  ring before{{1, 2, 3, 4}, 256, 1};
  ring after{{1, 2, 4}, 256, 2};
  for (auto id : ids) {
    if (before.owner(id) != after.owner(id)) {
      REQUIRE(before.owner(id) == 3);
    }
    REQUIRE(after.owner(id) != 3);
  }
}

TEST_CASE("the_same_membership_gives_the_same_owner_whatever_the_order_or_generation") {
  auto ids = guild_ids(20000);
  ring a{{3, 1, 2}, 128, 7};
  ring b{{1, 2, 3, 3, 2}, 128, 9};
  CHECK(a.nodes() == std::vector<uint16_t>{1, 2, 3});
  CHECK(b.nodes() == a.nodes());
  for (auto id : ids) {
    REQUIRE(a.owner(id) == b.owner(id));
  }
  CHECK(a.generation() == 7);
  for (const auto& [node, points] : a.points_per_node()) {
    INFO("node " << node);
    CHECK(points == 128);
  }
}

TEST_CASE("an_empty_ring_owns_nothing") {
  ring empty;
  CHECK_FALSE(empty.owner(42).has_value());
  ring none{{}, 256, 3};
  CHECK_FALSE(none.owner(42).has_value());
  CHECK(none.points_per_node().empty());
}
