// SPDX-License-Identifier: Apache-2.0
// Chaos tests (issue 13), faults 4 and 5: what operators do to a running cluster. Three real
// heraldd on one PostgreSQL database under the load of every chaos test (chaos_load.hpp):
// producers posting through REST on every node, observing gateway sessions.
//
// PostgreSQL restarted under load (`pg_ctl stop -m fast`, then start on the same port): while
// it is down producers get 503 (retryable); the nodes reconnect by themselves, nobody restarts
// them. Asserted: every acknowledged post is stored exactly once and received by every session
// (none lost); no session receives a post twice or out of its producer's order; sessions stay
// connected with gapless `s`; every guild delivers again; every node reconnected
// (herald_store_connections_lost_total) and is ready.
//
// Rolling restart under load: each node in turn is drained (`heraldctl drain --wait`), stopped
// with SIGTERM (it must exit 0), started again and waited for (ready, every node up): the steps
// of tools/cluster/rolling-restart.sh. Sessions told to reconnect (op 7) resume on another node
// (op 6), which takes the session over from the draining one. Asserted: stored exactly once, no
// duplicate, no reordering, gapless `s` across every connection of a session, no re-identify,
// no acknowledged post lost, every node restarted cleanly.
//
// Reported on one `chaos fault=… …` line each (docs/cluster.md, "Chaos tests").
// HERALD_CHAOS_SECONDS (default 4) sets the traffic after the fault. Every loop is bounded in count
// and time.
#include <catch2/catch.hpp>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "test/integration/cluster/chaos_load.hpp"
#include "test/integration/cluster/cluster_nodes.hpp"
#include "test/support/postgres_server.hpp"
#include "test/support/process.hpp"
#include "test/support/temp_dir.hpp"

using namespace herald;
using namespace herald::cluster_test;
using namespace std::chrono_literals;

namespace {

/// How long PostgreSQL stays down.
constexpr auto pg_down = 2s;

/// The checks every run here shares: no duplicate, no reordering, every acknowledged post
/// stored once (read through `via`), gapless `s` on every session's connections.
void check_common(const running_cluster& cluster, const chaos_traffic& traffic,
                  const chaos_scene& scene, const chaos_report& report, const node_spec& via) {
  CHECK(report.acked > 0);
  CHECK(report.lost == 0);
  CHECK(report.duplicated == 0);
  CHECK(report.reordered == 0);
  if (report.lost > 0 || report.duplicated > 0 || report.reordered > 0) {
    UNSCOPED_INFO(node_logs(cluster.nodes, cluster.procs));
  }
  for (const auto& s : traffic.sessions()) {
    INFO("session now on " << cluster.nodes[s->node()].name);
    CHECK(s->seq_errors().empty());
  }
  check_acked_stored_once(via, scene, traffic.ledger());
}

}  // namespace

TEST_CASE("chaos_postgres_restarted_under_load_answers_503_meanwhile_and_loses_no_acked_post") {
  testing::temp_dir dir;
  auto cluster = start_static_cluster(dir, {{"na", 1}, {"nb", 2}, {"nc", 3}}, chaos_heartbeat,
                                      chaos_failure_timeout);
  auto& nodes = cluster.nodes;
  require_all_up(nodes);
  auto scene = set_up_chaos_scene(nodes, chaos_guild_count);
  scene.faulted.clear();  // the store is everyone's: every guild is hit
  for (size_t g = 0; g < chaos_guild_count; ++g) {
    scene.faulted.push_back(g);
  }
  chaos_traffic traffic{nodes, scene};
  traffic.add_sessions({0, 1}, false);
  const auto run_for = chaos_seconds();
  traffic.start(chaos_clock::now() + chaos_warm_up + pg_down + run_for + 90s);

  std::this_thread::sleep_for(chaos_warm_up);  // traffic before the fault, not a wait
  auto& pg = testing::shared_postgres_server();
  const auto fault_at = chaos_clock::now();
  pg.stop();
  std::this_thread::sleep_for(pg_down);  // producers meet a store that is gone
  pg.start();
  std::this_thread::sleep_for(run_for);  // the nodes reconnect by themselves
  traffic.stop_producers();
  traffic.end_markers(nodes[0]);
  traffic.join();

  auto report = report_chaos("postgres_restart", traffic, scene, fault_at, run_for,
                             " pg_down_ms=" + std::to_string(pg_down.count() * 1000) +
                                 " unavailable=" + std::to_string(traffic.unavailable()));
  check_common(cluster, traffic, scene, report, nodes[0]);
  CHECK(report.recovery_ms.size() == chaos_guild_count);
  for (const auto& s : traffic.sessions()) {
    INFO("session on " << nodes[s->node()].name);
    CHECK_FALSE(s->close_code());
  }
  for (size_t i = 0; i < nodes.size(); ++i) {
    INFO("node " << nodes[i].name);
    CHECK(cluster.procs[i]->running());  // never restarted
    CHECK(ready(nodes[i]));
  }
  double lost = 0;
  for (const auto& n : nodes) {
    lost += std::max(0.0, metric(n, "herald_store_connections_lost_total{backend=\"postgres\"}"));
  }
  CHECK(lost >= 1);  // the nodes saw the store go and reconnected
  stop_cleanly(nodes, cluster.procs);
}

TEST_CASE("chaos_rolling_restart_under_load_drains_each_node_without_losing_an_acked_post") {
  testing::temp_dir dir;
  auto cluster = start_cluster(
      dir, {{"na", 1}, {"nb", 2}, {"nc", 3}}, [](const running_cluster& c, const node_spec&) {
        return static_membership_lines(c.seeds, chaos_heartbeat, chaos_failure_timeout) +
               "allow_plaintext = true\ndrain_window_ms = 500\n";
      });
  auto& nodes = cluster.nodes;
  auto& procs = cluster.procs;
  require_all_up(nodes);
  const auto scene = set_up_chaos_scene(nodes, chaos_guild_count);
  chaos_traffic traffic{nodes, scene};
  traffic.add_sessions({0, 1}, true);
  const auto run_for = chaos_seconds();
  traffic.start(chaos_clock::now() + chaos_warm_up + run_for + 240s);

  std::this_thread::sleep_for(chaos_warm_up);  // traffic before the fault, not a wait
  const auto fault_at = chaos_clock::now();
  // The victim (owner of the most guilds) first, then the others: the steps of
  // tools/cluster/rolling-restart.sh for each.
  std::vector<size_t> order{scene.victim};
  order.insert(order.end(), scene.others.begin(), scene.others.end());
  for (auto i : order) {
    const auto& n = nodes[i];
    INFO("rolling restart: " << n.name);
    auto drained =
        testing::run_process(testing::bin_path("heraldctl"),
                             {"--node", n.host + ":" + std::to_string(n.admin), "--data-dir",
                              n.data, "drain", "--wait", "--timeout", "60"},
                             90s);
    INFO("drain --wait: " << drained.out << drained.err);
    CHECK(drained.exit_code == std::optional<int>{0});
    procs[i]->send_signal(SIGTERM);
    auto exit = procs[i]->wait_for(60s);
    REQUIRE(exit);
    CHECK(*exit == 0);
    restart_node(cluster, i);
    require_ready(nodes, procs);
    require_all_up(nodes);
  }
  std::this_thread::sleep_for(run_for);  // traffic after the last restart
  traffic.stop_producers();
  traffic.end_markers(nodes[0]);
  traffic.join();

  auto report = report_chaos("rolling_restart", traffic, scene, fault_at, run_for,
                             " unavailable=" + std::to_string(traffic.unavailable()));
  check_common(cluster, traffic, scene, report, nodes[0]);
  CHECK(report.recovery_ms.size() == scene.faulted.size());
  // Sessions told op 7 by a draining node resume on another node, which takes the session over
  // from the draining one (docs/cluster.md, "Session migration"): no re-identify, nothing lost.
  CHECK(traffic.resumes() >= 2);
  CHECK(traffic.reidentifies() == 0);
  stop_cleanly(nodes, procs);
}
