// SPDX-License-Identifier: Apache-2.0
// A gateway node dies (docs/cluster.md, "Session migration"; issue 13's "gateway node death"):
// three real heraldd processes on one PostgreSQL; a guild owned by one node, a member's session
// on a second node, another member's session on the third. The second node is killed (SIGKILL:
// no drain, no handoff, its sessions' resume state dies with it). Its client's Resume on
// another node gets op 9 (nobody holds the session any more) and it identifies again there,
// then receives every later post; the session on the third node never notices: connected,
// gapless `s`, every acknowledged post once and in order; the owner keeps acknowledging posts.
#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <string>
#include <vector>

#include "test/integration/cluster/cluster_nodes.hpp"
#include "test/support/gateway_client.hpp"
#include "test/support/temp_dir.hpp"

using namespace herald;
using namespace herald::cluster_test;
using namespace std::chrono_literals;

namespace {

constexpr auto heartbeat = 200ms;
constexpr auto failure_timeout = 2000ms;

/// Posts `count` messages "<prefix> i" through `via`; the contents acknowledged (REQUIREd).
std::vector<std::string> post_all(const node_spec& via, const std::string& token,
                                  const std::string& channel, const std::string& prefix,
                                  int count) {
  std::vector<std::string> acked;
  for (int i = 0; i < count; ++i) {
    auto text =
        post_message(via, token, channel, prefix + " " + std::to_string(i)).value("content", "");
    REQUIRE(!text.empty());
    acked.push_back(text);
  }
  return acked;
}

}  // namespace

TEST_CASE("a_killed_gateway_node_costs_its_clients_one_identify_elsewhere_and_the_others_nothing") {
  testing::temp_dir dir;
  auto cluster =
      start_static_cluster(dir, {{"na", 1}, {"nb", 2}, {"nc", 3}}, heartbeat, failure_timeout);
  auto& nodes = cluster.nodes;
  require_all_up(nodes);

  auto g = make_member_guild(nodes[0], {"alice", "bob", "carol"});
  const auto& channel = g.channel;
  auto placed = place_guild(nodes, g.guild_id);
  const auto& owner = nodes[placed.owner];
  const size_t victim = placed.others[0];
  const auto& watcher = nodes[placed.others[1]];
  INFO("owner " << owner.name << ", killed " << nodes[victim].name << ", watcher " << watcher.name);
  const auto token = g.token(0);

  testing::gateway_client bob_ws{nodes[victim].gateway};
  testing::gateway_client carol_ws{watcher.gateway};
  bob_ws.login(g.token(1), 1);
  carol_ws.login(g.token(2), 1);
  const auto bob_session = bob_ws.session_id();

  auto acked = post_all(owner, token, channel, "before", 3);
  CHECK(messages_until(bob_ws, "before 2") == acked);
  CHECK(messages_until(carol_ws, "before 2") == acked);
  const auto bob_seq = bob_ws.last_seq();

  cluster.procs[victim]->send_signal(SIGKILL);
  // The owner keeps acknowledging while its peer is dead, then declared down.
  auto during = post_all(owner, token, channel, "during", 3);
  acked.insert(acked.end(), during.begin(), during.end());

  // Bob's client finds its connection gone and resumes on the watcher node: the session died
  // with its node, so op 9 (d=false), and Bob identifies again there.
  {
    testing::gateway_client ws{watcher.gateway};
    REQUIRE(ws.next_op(10));
    ws.resume(g.token(1), bob_session, bob_seq);
    auto invalid = ws.next_op(9, "", 20s);
    REQUIRE(invalid);
    CHECK((*invalid)["d"] == false);
  }
  testing::gateway_client bob_again{watcher.gateway};
  bob_again.login(g.token(1), 1);

  auto after = post_all(owner, token, channel, "after", 3);
  acked.insert(acked.end(), after.begin(), after.end());
  CHECK(messages_until(bob_again, "after 2") == after);
  CHECK(bob_again.seq_errors().empty());

  // Carol, on a node the fault spared, saw nothing of it: every post once, in order, gapless.
  CHECK(messages_until(carol_ws, "after 2") ==
        std::vector<std::string>(acked.begin() + 3, acked.end()));
  CHECK(carol_ws.seq_errors().empty());
  CHECK_FALSE(carol_ws.close_code());

  restart_node(cluster, victim);  // back, then every node stops cleanly
  require_ready(nodes, cluster.procs);
  require_all_up(nodes);
  stop_cleanly(nodes, cluster.procs);
}
