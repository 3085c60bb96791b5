// SPDX-License-Identifier: Apache-2.0
// Guild creation and feature publishes in a cluster of two real heraldd processes with the
// reactions feature: `heraldctl guild create` on a node that does not own the new guild does not
// start its actor there (the owner starts it on its first routed publish), and a reaction PUT on
// the non-owner is routed to the owner, which orders it: its gateway sessions get
// MESSAGE_REACTION_ADD and the reaction reads back over REST from both nodes. The routers count
// the messages and bytes they exchanged (herald_cluster_route_*_total).
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test/integration/cluster/cluster_nodes.hpp"
#include "test/support/gateway_client.hpp"
#include "test/support/postgres_server.hpp"
#include "test/support/process.hpp"
#include "test/support/rest_client.hpp"
#include "test/support/temp_dir.hpp"

using namespace herald;
using namespace herald::cluster_test;
using namespace std::chrono_literals;

namespace {

constexpr uint32_t guilds_intent = 1u << 0;
constexpr uint32_t guild_messages_intent = 1u << 9;
constexpr uint32_t reactions_intent = 1u << 10;
const std::string thumbs = "%F0%9F%91%8D";  // 👍 URL-encoded
const std::string guild_actors = "herald_registry_names{registry=\"guilds\"}";
const std::string remote_publishes = "herald_routed_publishes_total{where=\"remote\"}";
const std::string route_messages_out = "herald_cluster_route_messages_total{direction=\"out\"}";
const std::string route_messages_in = "herald_cluster_route_messages_total{direction=\"in\"}";
const std::string route_bytes_out = "herald_cluster_route_bytes_total{direction=\"out\"}";

}  // namespace

TEST_CASE("guild_create_and_feature_publishes_on_a_non_owner_are_ordered_by_the_owner") {
  testing::temp_dir dir;
  auto cluster = start_static_cluster(dir, {{"na", 1}, {"nb", 2}}, 200ms, 5000ms,
                                      "[features]\nenabled = [\"reactions\"]\n");
  auto& nodes = cluster.nodes;
  auto& procs = cluster.procs;
  for (const auto& n : nodes) {
    REQUIRE(testing::eventually([&] { return metric(n, "herald_cluster_nodes_up") == 2; }, 30s,
                                testing::slow_poll_step));
  }
  const auto& creator = nodes[0];  // na: every admin command below goes to it
  const auto& owner = nodes[1];    // nb: owns the guild the loop below keeps

  auto alice = ctl_json(creator, {"user", "create", "--name", "alice"});
  auto token = alice.value("token", "");
  REQUIRE(!token.empty());

  // Guilds created on na until one is owned by nb (each owner has about half the ring: 16 tries
  // miss with probability 2^-16). Such a guild's actor is not started on na.
  std::string guild_id;
  for (int i = 0; i < 16 && guild_id.empty(); ++i) {
    double before = metric(creator, guild_actors);
    auto id = id_of(ctl_json(creator, {"guild", "create", "--name", "g", "--owner", id_of(alice)}));
    REQUIRE(!id.empty());
    auto where = ctl_json(creator, {"where", "guild", id});
    REQUIRE(where.is_object());
    if (where.value("owner_node", "") == owner.name) {
      CHECK(metric(creator, guild_actors) == before);
      guild_id = id;
    }
  }
  REQUIRE(!guild_id.empty());
  double creator_guilds = metric(creator, guild_actors);

  // A routed admin publish starts it on the owner.
  auto channel =
      id_of(ctl_json(creator, {"channel", "create", "--guild", guild_id, "--name", "general"}));
  REQUIRE(!channel.empty());
  CHECK(ctl_json(creator, {"where", "guild", guild_id}).value("alive", false));

  // Alice's session on the owner receives what the owner orders.
  testing::gateway_client ws{owner.gateway};
  ws.login(token, 1, guilds_intent | guild_messages_intent | reactions_intent);

  testing::rest_client on_creator{creator.gateway, token};
  auto message = id_of(
      on_creator.post("/channels/" + channel + "/messages", json{{"content", "react"}}).json());
  REQUIRE(!message.empty());
  auto path = "/channels/" + channel + "/messages/" + message + "/reactions/" + thumbs;

  // The reaction on the non-owner goes to the owner through the router.
  double routed_before = metric(creator, remote_publishes);
  double sent_before = metric(creator, route_messages_out);
  double bytes_before = metric(creator, route_bytes_out);
  double received_before = metric(owner, route_messages_in);
  auto put = on_creator.put(path + "/@me");
  INFO("PUT -> " << put.status << " " << put.body);
  REQUIRE(put.status == 204);
  CHECK(metric(creator, remote_publishes) >= routed_before + 1);
  // One request out of the creator's router and its ack back; the owner's router got it.
  CHECK(metric(creator, route_messages_out) >= sent_before + 1);
  CHECK(metric(creator, route_bytes_out) > bytes_before + 8);
  CHECK(metric(creator, route_messages_in) >= 1);
  CHECK(metric(owner, route_messages_in) >= received_before + 1);
  std::optional<json> added;
  for (int i = 0; i < 20 && !added; ++i) {
    auto f = ws.next_op(0, "MESSAGE_REACTION_ADD", 10s);
    if (!f) {
      break;
    }
    if ((*f)["d"].value("message_id", "") == message) {
      added = f;
    }
  }
  REQUIRE(added);
  CHECK((*added)["d"]["user_id"] == id_of(alice));
  CHECK((*added)["d"]["guild_id"] == guild_id);
  // The guild still runs on its owner only.
  CHECK(metric(creator, guild_actors) == creator_guilds);

  // REST reads the reaction from both nodes.
  for (const auto& n : nodes) {
    testing::rest_client rest{n.gateway, token};
    auto users = rest.get(path);
    INFO("GET reactions on " << n.name << ": " << users.status << " " << users.body);
    REQUIRE(users.status == 200);
    REQUIRE(users.json().is_array());
    REQUIRE(users.json().size() == 1);
    CHECK(users.json()[0].value("id", "") == id_of(alice));
  }

  ws.close();
  stop_cleanly(nodes, procs);
}
