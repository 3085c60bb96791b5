// SPDX-License-Identifier: Apache-2.0
// The body of GET /v1/cluster/status (actors/app/cluster_status.hpp) from a snapshot of a node's
// view: the counts, each peer's connection, and the verdict with its reasons.
#include <catch2/catch.hpp>

#include "actors/app/cluster_status.hpp"

using namespace herald;

namespace {

cluster::node_row row(uint16_t id, std::string name, bool up, bool self = false) {
  cluster::node_row r;
  r.id = id;
  r.name = std::move(name);
  r.up = up;
  r.self = self;
  return r;
}

app::cluster_status_input three_nodes(app::membership_kind kind) {
  app::cluster_status_input in;
  in.membership = kind;
  in.rows = {row(1, "na", true, true), row(2, "nb", true), row(3, "nc", true)};
  in.ring_generation = 7;
  in.guild_nodes = 3;
  in.connected = {2, 3};
  in.routed_local = 5;
  in.routed_remote = 9;
  return in;
}

}  // namespace

TEST_CASE("cluster_status_is_ok_when_every_peer_is_up_and_connected") {
  auto s = app::cluster_status_json(three_nodes(app::membership_kind::static_seeds));
  CHECK(s["node"] == "na");
  CHECK(s["node_id"] == 1);
  CHECK(s["membership"] == "static");
  CHECK(s["nodes_up"] == 3);
  CHECK(s["nodes_total"] == 3);
  CHECK(s["ring_generation"] == 7);
  CHECK(s["guild_nodes"] == 3);
  CHECK(s["routed_publishes"]["local"] == 5);
  CHECK(s["routed_publishes"]["remote"] == 9);
  REQUIRE(s["peers"].size() == 2);
  CHECK(s["peers"][0]["name"] == "nb");
  CHECK(s["peers"][0]["connected"] == true);
  CHECK(s["reasons"].empty());
  CHECK(s["verdict"] == "ok");
}

TEST_CASE("cluster_status_is_degraded_with_a_down_member_or_an_up_peer_not_connected") {
  auto in = three_nodes(app::membership_kind::static_seeds);
  in.rows[2].up = false;
  in.connected = {3};  // nb up but not linked; nc down
  auto s = app::cluster_status_json(in);
  CHECK(s["nodes_up"] == 2);
  CHECK(s["verdict"] == "degraded");
  REQUIRE(s["reasons"].size() == 2);
  CHECK(s["reasons"][0] == "node nb (id 2) is up but not connected to this node");
  CHECK(s["reasons"][1] == "node nc (id 3) is down");
  CHECK(s["peers"][1]["status"] == "down");
}

TEST_CASE("cluster_status_with_etcd_membership_counts_missing_connections_as_static_does") {
  auto in = three_nodes(app::membership_kind::etcd);
  auto linked = app::cluster_status_json(in);
  CHECK(linked["membership"] == "etcd");
  CHECK(linked["peers"][0]["connected"] == true);
  CHECK(linked["verdict"] == "ok");
  in.connected = {2};  // etcd lists nc up, but this node's link to it is not (yet) made
  auto s = app::cluster_status_json(in);
  CHECK(s["peers"][1]["connected"] == false);
  CHECK(s["verdict"] == "degraded");
  REQUIRE(s["reasons"].size() == 1);
  CHECK(s["reasons"][0] == "node nc (id 3) is up but not connected to this node");
}

TEST_CASE("cluster_status_is_degraded_when_no_guild_node_is_up") {
  auto in = three_nodes(app::membership_kind::static_seeds);
  in.guild_nodes = 0;
  auto s = app::cluster_status_json(in);
  CHECK(s["verdict"] == "degraded");
  REQUIRE(s["reasons"].size() == 1);
  CHECK(s["reasons"][0] == "no node with the guild role is up: guilds have no owner");
}

TEST_CASE("cluster_status_of_an_unclustered_node_is_ok_alone") {
  app::cluster_status_input in;
  in.rows = {row(0, "solo", true, true)};
  in.guild_nodes = 1;
  auto s = app::cluster_status_json(in);
  CHECK(s["membership"] == "none");
  CHECK(s["nodes_total"] == 1);
  CHECK(s["peers"].empty());
  CHECK(s["verdict"] == "ok");
}
