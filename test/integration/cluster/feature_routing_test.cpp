// SPDX-License-Identifier: Apache-2.0
// Guild creation and feature publishes in a cluster of two real heraldd processes with the
// reactions feature: `heraldctl guild create` on a node that does not own the new guild does not
// start its actor there (the owner starts it on its first routed publish), a message posted on
// the non-owner is routed to the owner (the routers count the messages and bytes they exchanged,
// herald_cluster_route_*_total), and a reaction PUT on the non-owner runs on the owner, which
// orders it: its gateway sessions get MESSAGE_REACTION_ADD and the reaction reads back over REST
// from both nodes.
//
// Feature actors on the owner, three heraldd with reactions and pins: reactions and pins made
// through REST on the two nodes that do not own the guild all land in one keyed actor per
// channel, on the owner, so a read on any node sees every one of them at once (also in message
// objects); the owner frozen, a feature request on another node gets 503 with Retry-After,
// then works on the node the ring moves the guild to, and again on the owner once it is back.
#include <catch2/catch.hpp>

#include <algorithm>
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
const std::string heart = "%E2%9D%A4";  // ❤ URL-encoded
const std::string feature_calls_out = "herald_cluster_feature_calls_total{direction=\"out\"}";
const std::string feature_calls_in = "herald_cluster_feature_calls_total{direction=\"in\"}";
const std::string feature_failures = "herald_cluster_feature_call_failures_total";

/// `method` /api/v10`path` on `n` as the token's user, waiting up to 20 s (a frozen owner takes
/// the request timeout to be given up).
testing::http_answer call(const node_spec& n, const std::string& token, const std::string& method,
                          const std::string& path) {
  return testing::http_call(n.gateway, method, "/api/v10" + path, {},
                            {{"Authorization", "Bot " + token}}, 20s);
}

/// The "id"s of the objects in the array a GET of `path` on `n` answers (a reaction's users,
/// a channel's pinned messages), sorted; {"<status>"} on an error.
std::vector<std::string> listed_ids(const node_spec& n, const std::string& token,
                                    const std::string& path) {
  auto r = call(n, token, "GET", path);
  if (r.status != 200 || !r.json().is_array()) {
    return {std::to_string(r.status)};
  }
  std::vector<std::string> out;
  for (const auto& x : r.json()) {
    out.push_back(x.value("id", ""));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

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

  // A message posted on the non-owner goes to the owner through the router.
  testing::rest_client on_creator{creator.gateway, token};
  double routed_before = metric(creator, remote_publishes);
  double sent_before = metric(creator, route_messages_out);
  double bytes_before = metric(creator, route_bytes_out);
  double received_before = metric(owner, route_messages_in);
  auto message = id_of(
      on_creator.post("/channels/" + channel + "/messages", json{{"content", "react"}}).json());
  REQUIRE(!message.empty());
  CHECK(metric(creator, remote_publishes) >= routed_before + 1);
  // One request out of the creator's router and its ack back; the owner's router got it.
  CHECK(metric(creator, route_messages_out) >= sent_before + 1);
  CHECK(metric(creator, route_bytes_out) > bytes_before + 8);
  CHECK(metric(creator, route_messages_in) >= 1);
  CHECK(metric(owner, route_messages_in) >= received_before + 1);
  auto path = "/channels/" + channel + "/messages/" + message + "/reactions/" + thumbs;

  // The reaction PUT on the non-owner runs on the owner (its front door), whose counter
  // publishes to its own guild: no routed publish.
  double calls_before = metric(creator, feature_calls_out);
  double calls_in_before = metric(owner, feature_calls_in);
  routed_before = metric(creator, remote_publishes);
  auto put = on_creator.put(path + "/@me");
  INFO("PUT -> " << put.status << " " << put.body);
  REQUIRE(put.status == 204);
  CHECK(metric(creator, feature_calls_out) == calls_before + 1);
  CHECK(metric(owner, feature_calls_in) == calls_in_before + 1);
  CHECK(metric(creator, remote_publishes) == routed_before);
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

TEST_CASE("feature_actors_run_on_the_guild_owner_so_every_node_sees_every_reaction_and_pin") {
  testing::temp_dir dir;
  auto cluster = start_static_cluster(dir, {{"na", 1}, {"nb", 2}, {"nc", 3}}, 200ms, 2000ms,
                                      "[features]\nenabled = [\"reactions\", \"pins\"]\n");
  auto& nodes = cluster.nodes;
  auto& procs = cluster.procs;
  for (const auto& n : nodes) {
    REQUIRE(testing::eventually([&] { return metric(n, "herald_cluster_nodes_up") == 3; }, 30s,
                                testing::slow_poll_step));
  }
  auto alice = ctl_json(nodes[0], {"user", "create", "--name", "alice"});
  auto bob = ctl_json(nodes[0], {"user", "create", "--name", "bob"});
  auto alice_token = alice.value("token", "");
  auto bob_token = bob.value("token", "");
  REQUIRE(!alice_token.empty());
  REQUIRE(!bob_token.empty());
  auto guild =
      id_of(ctl_json(nodes[0], {"guild", "create", "--name", "g", "--owner", id_of(alice)}));
  REQUIRE(!guild.empty());
  auto channel =
      id_of(ctl_json(nodes[0], {"channel", "create", "--guild", guild, "--name", "general"}));
  REQUIRE(!channel.empty());
  REQUIRE(
      ctl_json(nodes[0], {"member", "add", "--guild", guild, "--user", id_of(bob)}).is_object());
  auto where = place_guild(nodes, guild);
  const auto& owner = nodes[where.owner];
  const auto& b = nodes[where.others[0]];
  const auto& c = nodes[where.others[1]];
  auto m1 = id_of(post_message(owner, alice_token, channel, "first"));
  auto m2 = id_of(post_message(owner, alice_token, channel, "second"));
  REQUIRE(!m1.empty());
  REQUIRE(!m2.empty());
  auto thumbs_path = "/channels/" + channel + "/messages/" + m1 + "/reactions/" + thumbs;
  auto heart_path = "/channels/" + channel + "/messages/" + m1 + "/reactions/" + heart;
  auto pins_path = "/channels/" + channel + "/pins";

  // Reads first on every node: with actors per node, each would now hold its own (empty) copy.
  for (const auto& n : nodes) {
    CHECK(listed_ids(n, alice_token, thumbs_path).empty());
    CHECK(listed_ids(n, alice_token, pins_path).empty());
  }
  double out_before = metric(b, feature_calls_out) + metric(c, feature_calls_out);
  double in_before = metric(owner, feature_calls_in);

  // Alice reacts through nb, bob through nc: one counter, on the owner, counts both.
  auto put_b = call(b, alice_token, "PUT", thumbs_path + "/@me");
  INFO("PUT on " << b.name << ": " << put_b.status << " " << put_b.body);
  REQUIRE(put_b.status == 204);
  auto put_c = call(c, bob_token, "PUT", thumbs_path + "/@me");
  INFO("PUT on " << c.name << ": " << put_c.status << " " << put_c.body);
  REQUIRE(put_c.status == 204);
  auto both = sorted({id_of(alice), id_of(bob)});
  for (const auto& n : nodes) {
    INFO("GET reactions on " << n.name);
    CHECK(listed_ids(n, alice_token, thumbs_path) == both);
  }

  // Pins likewise: m1 pinned through nb, m2 through nc, both listed everywhere, and message
  // objects read on any node carry the owner's pins and reactions.
  REQUIRE(call(b, alice_token, "PUT", "/channels/" + channel + "/pins/" + m1).status == 204);
  REQUIRE(call(c, alice_token, "PUT", "/channels/" + channel + "/pins/" + m2).status == 204);
  for (const auto& n : nodes) {
    INFO("pins and message objects on " << n.name);
    CHECK(listed_ids(n, alice_token, pins_path) == sorted({m1, m2}));
    auto msg = call(n, alice_token, "GET", "/channels/" + channel + "/messages/" + m1).json();
    CHECK(msg.value("pinned", false));
    REQUIRE(msg.contains("reactions"));
    CHECK(msg["reactions"][0].value("count", 0) == 2);
  }
  // Every request made on nb and nc crossed to the owner; none came the other way.
  CHECK(metric(b, feature_calls_out) + metric(c, feature_calls_out) >= out_before + 10);
  CHECK(metric(owner, feature_calls_in) >= in_before + 10);
  CHECK(metric(owner, feature_calls_out) == 0);

  // The owner frozen: the request waits at most the request timeout, then 503 + Retry-After.
  double failures_before = metric(b, feature_failures);
  procs[where.owner]->send_signal(SIGSTOP);
  auto busy = call(b, alice_token, "PUT", heart_path + "/@me");
  INFO("PUT while the owner is frozen: " << busy.status << " " << busy.body << " " << busy.error);
  CHECK(busy.status == 503);
  CHECK(!busy.header("retry-after").empty());
  CHECK(metric(b, feature_failures) >= failures_before + 1);

  // Declared down, the guild moves to nb or nc; that node's actors start from the store.
  REQUIRE(testing::eventually(
      [&] { return call(b, alice_token, "PUT", heart_path + "/@me").status == 204; }, 60s,
      testing::slow_poll_step));
  for (const auto* n : {&b, &c}) {
    INFO("after the move, on " << n->name);
    CHECK(listed_ids(*n, alice_token, heart_path) == std::vector<std::string>{id_of(alice)});
    CHECK(listed_ids(*n, alice_token, thumbs_path) == both);
    CHECK(listed_ids(*n, alice_token, pins_path) == sorted({m1, m2}));
  }

  // Back: the guild returns to its owner, whose actors drop the copy they held before.
  procs[where.owner]->send_signal(SIGCONT);
  for (const auto& n : nodes) {
    REQUIRE(testing::eventually([&] { return metric(n, "herald_cluster_nodes_up") == 3; }, 60s,
                                testing::slow_poll_step));
  }
  REQUIRE(testing::eventually(
      [&] { return call(c, bob_token, "PUT", heart_path + "/@me").status == 204; }, 60s,
      testing::slow_poll_step));
  for (const auto& n : nodes) {
    INFO("after the owner is back, on " << n.name);
    CHECK(testing::eventually([&] { return listed_ids(n, alice_token, heart_path) == both; }, 30s,
                              testing::slow_poll_step));
    CHECK(listed_ids(n, alice_token, thumbs_path) == both);
  }

  stop_cleanly(nodes, procs);
}
