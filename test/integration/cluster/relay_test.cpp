// SPDX-License-Identifier: Apache-2.0
// Cross-node relays in a cluster of three real heraldd processes on one PostgreSQL database:
// gateway sessions on the two nodes that do not own a guild identify and receive its
// GUILD_CREATE from the owner, then every message posted by REST (on a non-owner and on the
// owner) in order with gapless `s`; a member without VIEW_CHANNEL on a private channel does not
// receive its messages while one with it does, and one granted it later (a view-class update
// through the stream) receives the CHANNEL_CREATE and then its messages. The owner counts its
// exporters and the events it sent once per subscribed node; no guild actor runs on a
// non-owner for its sessions; the owner stops cleanly while the other nodes keep their sessions.
#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test/integration/cluster/cluster_nodes.hpp"
#include "test/support/eventually.hpp"
#include "test/support/gateway_client.hpp"
#include "test/support/postgres_server.hpp"
#include "test/support/process.hpp"
#include "test/support/rest_client.hpp"
#include "test/support/temp_dir.hpp"

using namespace herald;
using namespace herald::cluster_test;
using namespace std::chrono_literals;

namespace {

constexpr auto heartbeat = 200ms;
constexpr auto failure_timeout = 5000ms;
constexpr uint64_t view_channel = uint64_t{1} << 10;

bool lists_channel(const json& guild_create, const std::string& channel) {
  for (const auto& ch : guild_create["d"]["channels"]) {
    if (ch.value("id", "") == channel) {
      return true;
    }
  }
  return false;
}

}  // namespace

TEST_CASE("sessions_on_nodes_that_do_not_own_a_guild_receive_its_events_in_order_through_relays") {
  testing::temp_dir dir;
  auto cluster =
      start_static_cluster(dir, {{"na", 1}, {"nb", 2}, {"nc", 3}}, heartbeat, failure_timeout);
  auto& nodes = cluster.nodes;
  auto& procs = cluster.procs;
  require_all_up(nodes);

  auto g = make_member_guild(nodes[0], {"alice", "bob", "carol", "dave"});
  const auto& alice = g.users[0];
  const auto& bob = g.users[1];
  const auto& carol = g.users[2];
  const auto& dave = g.users[3];
  const auto& guild_id = g.guild_id;
  const auto& general = g.channel;
  auto hidden = created_id(
      nodes[0], {"channel", "create", "--guild", guild_id, "--name", "secret", "--private"});
  REQUIRE(ctl_json(nodes[0], {"overwrite", "set", "--channel", hidden, "--member", id_of(carol),
                              "--allow", std::to_string(view_channel), "--deny", "0"})
              .is_object());

  // The owner, and the two other nodes (b, c) where the sessions are.
  auto placed = place_guild(nodes, guild_id);
  auto owner = placed.owner;
  auto& others = placed.others;
  REQUIRE(others.size() == 2);
  const auto& a = nodes[owner];
  const auto& b = nodes[others[0]];
  const auto& c = nodes[others[1]];
  INFO("owner " << a.name << ", sessions on " << b.name << " and " << c.name);

  // Identify on the non-owners: READY, then GUILD_CREATE built on the owner.
  testing::gateway_client bob_ws{b.gateway};
  testing::gateway_client carol_ws{c.gateway};
  testing::gateway_client dave_ws{c.gateway};
  auto guild_create = [&](testing::gateway_client& ws, const json& u) {
    ws.login(u.value("token", ""), 0);
    auto gc = ws.next_op(0, "GUILD_CREATE", 20s);
    REQUIRE(gc);
    CHECK((*gc)["d"].value("id", "") == guild_id);
    return *gc;
  };
  auto bob_gc = guild_create(bob_ws, bob);
  auto carol_gc = guild_create(carol_ws, carol);
  auto dave_gc = guild_create(dave_ws, dave);
  CHECK(lists_channel(bob_gc, general));
  CHECK(!lists_channel(bob_gc, hidden));
  CHECK(lists_channel(carol_gc, hidden));
  CHECK(!lists_channel(dave_gc, hidden));
  CHECK(metric(a, "herald_cluster_remote_relays") == 2);  // one exporter per subscribed node

  // Posted alternately on a non-owner and on the owner; one message in the private channel.
  auto token = alice.value("token", "");
  std::vector<std::string> expected;
  for (int i = 0; i < 10; ++i) {
    auto content = "m" + std::to_string(i);
    post_message(i % 2 == 0 ? b : a, token, general, content);
    expected.push_back(content);
    if (i == 4) {
      post_message(b, token, hidden, "secret 1");
    }
  }
  post_message(a, token, general, "end 1");
  auto with_secret = expected;
  with_secret.insert(with_secret.begin() + 5, "secret 1");
  with_secret.push_back("end 1");
  expected.push_back("end 1");
  CHECK(messages_until(bob_ws, "end 1") == expected);
  CHECK(messages_until(carol_ws, "end 1") == with_secret);
  CHECK(messages_until(dave_ws, "end 1") == expected);

  // dave is granted VIEW_CHANNEL: his class changes on the owner, the update travels down the
  // stream, he receives the channel and then its messages.
  REQUIRE(ctl_json(b, {"overwrite", "set", "--channel", hidden, "--member", id_of(dave), "--allow",
                       std::to_string(view_channel), "--deny", "0"})
              .is_object());
  post_message(a, token, hidden, "secret 2");
  bool channel_created = false;
  for (int frames = 0; frames < 100 && !channel_created; ++frames) {
    auto f = dave_ws.next(20s);
    REQUIRE(f);
    channel_created = (*f)["t"] == "CHANNEL_CREATE" && (*f)["d"].value("id", "") == hidden;
  }
  CHECK(channel_created);
  CHECK(messages_until(dave_ws, "secret 2") == std::vector<std::string>{"secret 2"});
  CHECK(messages_until(carol_ws, "secret 2") == std::vector<std::string>{"secret 2"});

  for (auto* ws : {&bob_ws, &carol_ws, &dave_ws}) {
    CHECK(ws->seq_errors().empty());
  }
  // Events go to each subscribed node once, not once per session; batches are counted.
  auto events_out = metric(a, "herald_cluster_relay_events_total");
  auto batches_out = metric(a, "herald_cluster_relay_messages_total{direction=\"out\"}");
  CHECK(events_out >= 2 * 13);
  CHECK(batches_out > 0);
  CHECK(metric(b, "herald_cluster_relay_messages_total{direction=\"in\"}") > 0);
  CHECK(metric(c, "herald_cluster_relay_bytes_total{direction=\"in\"}") > 0);
  CHECK(metric(b, "herald_cluster_remote_relays") == 0);
  // No guild actor ran on a non-owner for its sessions' sake (the admin `guild create` starts
  // one on the node asked, nodes[0], so look at a non-owner that was not asked).
  CHECK(metric(a, "herald_messages_handled_total{kind=\"guild\"}") > 0);  // the series' name
  for (const auto* n : {&b, &c}) {
    if (n->name != nodes[0].name) {
      INFO("guild messages handled on " << n->name);
      CHECK(metric(*n, "herald_messages_handled_total{kind=\"guild\"}") <= 0);
    }
  }

  // The owner stops first while the other nodes keep their sessions: its exporters end with it
  // (they are not supervised) and it exits 0 in bounded time; the others keep running.
  procs[owner]->send_signal(SIGTERM);
  auto owner_exit = procs[owner]->wait_for(60s);
  INFO("owner stderr: " << procs[owner]->err());
  REQUIRE(owner_exit);
  CHECK(*owner_exit == 0);
  CHECK(procs[others[0]]->running());
  CHECK(procs[others[1]]->running());
  stop_cleanly(nodes, procs);
}
