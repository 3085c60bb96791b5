// SPDX-License-Identifier: Apache-2.0
// Cluster links under etcd membership (issue 12): three real heraldd processes with
// cluster.membership = "etcd" (a real etcd from tools/local-etcd) and mutual TLS (a throwaway
// cluster CA) link to every peer etcd lists up, so routing, relays and revoke notices work as
// under static membership: a guild owned by node A, sessions on B and C, messages posted
// through REST on B reach both sessions in order with gapless `s`; a token revoked on A closes
// the user's connection on B with 4004; garbage and a peer of another CA on an etcd node's
// cluster port are refused and counted; a non-owner killed with SIGKILL is retried (counted)
// while etcd still lists it, and once restarted it is linked again and its new sessions
// receive the guild's events. The links' round-trip time is measured per peer.
#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test/integration/cluster/cluster_nodes.hpp"
#include "test/support/cluster_ca.hpp"
#include "test/support/eventually.hpp"
#include "test/support/gateway_client.hpp"
#include "test/support/process.hpp"
#include "test/support/temp_dir.hpp"
#include "tools/local-etcd/local_etcd.hpp"

using namespace herald;
using namespace herald::cluster_test;
using namespace std::chrono_literals;

namespace {

constexpr auto lease_ttl = 2s;

/// `heraldctl cluster status` on `n` says ok: every member up and every peer linked.
bool linked_to_all(const node_spec& n, size_t nodes) {
  auto s = ctl_json(n, {"cluster", "status"});
  return s.is_object() && s.value("verdict", "") == "ok" &&
         s.value("nodes_up", size_t{0}) == nodes && s.value("membership", "") == "etcd";
}

void require_linked(const std::vector<node_spec>& nodes) {
  for (const auto& n : nodes) {
    INFO("cluster status on " << n.name << ": " << ctl_json(n, {"cluster", "status"}).dump());
    REQUIRE(testing::eventually([&] { return linked_to_all(n, nodes.size()); }, 30s,
                                testing::slow_poll_step));
  }
}

/// Logs in on `ws` and reads the guild's GUILD_CREATE (REQUIREd within 20 s).
void join(testing::gateway_client& ws, const json& user, const std::string& guild_id) {
  ws.login(user.value("token", ""), 0);
  auto gc = ws.next_op(0, "GUILD_CREATE", 20s);
  REQUIRE(gc);
  CHECK((*gc)["d"].value("id", "") == guild_id);
}

}  // namespace

TEST_CASE("etcd_members_link_over_mutual_tls_so_routing_relays_and_revokes_work_across_nodes") {
  tools::local_etcd_server etcd;
  testing::temp_dir dir;
  testing::cluster_ca ca;
  auto cluster = start_cluster(
      dir, {{"na", 1}, {"nb", 2}, {"nc", 3}}, [&](const running_cluster&, const node_spec& n) {
        return etcd_membership_lines(etcd.endpoint(), "/links/", lease_ttl) +
               tls_lines(ca.issue(n.name));
      });
  auto& nodes = cluster.nodes;
  require_linked(nodes);

  auto g = make_member_guild(nodes[0], {"alice", "bob", "carol"});
  const auto& alice = g.users[0];
  const auto& bob = g.users[1];
  const auto& carol = g.users[2];
  const auto& guild_id = g.guild_id;
  const auto& general = g.channel;
  auto erin = create_user(nodes[0], "erin");  // not a member
  auto placed = place_guild(nodes, guild_id);
  const auto a = placed.owner;
  const auto b = placed.others[0];
  const auto c = placed.others[1];
  INFO("owner " << nodes[a].name << ", sessions on " << nodes[b].name << " and " << nodes[c].name);

  // Sessions on the two non-owners get GUILD_CREATE from the owner and, in order, every message
  // posted on B (routed to A, relayed back to B and C).
  testing::gateway_client bob_ws{nodes[b].gateway};
  testing::gateway_client carol_ws{nodes[c].gateway};
  join(bob_ws, bob, guild_id);
  join(carol_ws, carol, guild_id);
  auto token = alice.value("token", "");
  std::vector<std::string> expected;
  for (int i = 0; i < 10; ++i) {
    expected.push_back("m" + std::to_string(i));
    post_message(nodes[b], token, general, expected.back());
  }
  CHECK(messages_until(bob_ws, "m9") == expected);
  CHECK(messages_until(carol_ws, "m9") == expected);
  CHECK(metric(nodes[b], "herald_routed_publishes_total{where=\"remote\"}") >= 10);
  CHECK(metric(nodes[a], "herald_cluster_remote_relays") == 2);
  // The links are measured as under static membership: a round-trip sample per peer.
  for (size_t peer : {b, c}) {
    auto series = "herald_cluster_link_rtt_seconds_count{peer=\"" + nodes[peer].name + "\"}";
    INFO(series << " on " << nodes[a].name);
    CHECK(testing::eventually([&] { return metric(nodes[a], series) > 0; }, 20s,
                              testing::slow_poll_step));
  }

  // A token revoked on A closes the user's connection on B.
  testing::gateway_client erin_ws{nodes[b].gateway};
  erin_ws.login(erin.value("token", ""), 0);
  REQUIRE(ctl_json(nodes[a], {"token", "revoke", "--user", id_of(erin)}).is_object());
  {
    INFO("nb stderr: " << cluster.procs[b]->err());
    CHECK(erin_ws.wait_close(20s) == 4004);
  }
  CHECK(metric(nodes[a], "herald_cluster_revoke_notices_total{direction=\"out\"}") == 2);
  CHECK(metric(nodes[a], "herald_cluster_revoke_notices_failed_total") == 0);

  // The cluster port of an etcd node refuses garbage and a peer of another CA, and counts them.
  auto refused = metric(nodes[a], "herald_cluster_connections_refused_total");
  REQUIRE(refused >= 0);
  send_garbage(nodes[a].cluster);
  CHECK(testing::eventually(
      [&] { return metric(nodes[a], "herald_cluster_connections_refused_total") > refused; }, 10s));
  testing::cluster_ca other{"another CA"};
  node_spec rogue{"nx", 9};
  rogue.data = dir.file("data-nx");
  auto rogue_cfg = dir.write_file(
      "nx.toml", node_config(rogue,
                             static_membership_lines({cluster_address(nodes[a])}, 300ms, 3000ms) +
                                 tls_lines(other.issue("nx")),
                             cluster.pg_url, cluster.secret));
  refused = metric(nodes[a], "herald_cluster_connections_refused_total");
  {
    testing::child_process rogue_proc{testing::bin_path("heraldd"), {"--config", rogue_cfg}};
    INFO("nx stderr: " << rogue_proc.err());
    CHECK(testing::eventually(
        [&] { return metric(nodes[a], "herald_cluster_connections_refused_total") > refused; }, 30s,
        testing::slow_poll_step));
    rogue_proc.send_signal(SIGTERM);
    CHECK(rogue_proc.wait_for(60s));
  }
  CHECK(linked_to_all(nodes[a], 3));

  // SIGKILL of non-owner C: A and B lose the link and retry (counted) while etcd still lists C;
  // B's session keeps receiving.
  auto failures = metric(nodes[a], "herald_cluster_link_failures_total");
  auto incarnation = incarnation_of(nodes_json(nodes[a]), nodes[c].node_id);
  cluster.procs[c]->send_signal(SIGKILL);
  REQUIRE(cluster.procs[c]->wait_for(10s));
  CHECK(testing::eventually(
      [&] { return metric(nodes[a], "herald_cluster_link_failures_total") > failures; }, 20s,
      100ms));
  post_message(nodes[b], token, general, "while nc is down");
  CHECK(messages_until(bob_ws, "while nc is down") == std::vector<std::string>{"while nc is down"});

  // Restarted: a new incarnation in etcd, linked again by every node; a new session on C
  // receives the guild and its events again.
  restart_node(cluster, c);
  require_ready(nodes, cluster.procs);
  CHECK(testing::eventually(
      [&] { return incarnation_of(nodes_json(nodes[a]), nodes[c].node_id) > incarnation; }, 30s,
      testing::slow_poll_step));
  require_linked(nodes);
  testing::gateway_client carol_again{nodes[c].gateway};
  join(carol_again, carol, guild_id);
  std::vector<std::string> after;
  for (int i = 0; i < 5; ++i) {
    after.push_back("after " + std::to_string(i));
    post_message(nodes[i % 2 == 0 ? b : a], token, general, after.back());
  }
  CHECK(messages_until(carol_again, "after 4") == after);
  CHECK(messages_until(bob_ws, "after 4") == after);

  for (auto* ws : {&bob_ws, &carol_ws, &carol_again}) {
    CHECK(ws->seq_errors().empty());
  }
  stop_cleanly(nodes, cluster.procs);
}
