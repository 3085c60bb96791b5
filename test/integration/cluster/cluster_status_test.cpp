// SPDX-License-Identifier: Apache-2.0
// `heraldctl cluster status` against two real heraldd processes: both nodes answer `ok` with
// 2 of 2 nodes up and a connection to the peer (text and --json); a frozen peer (SIGSTOP) turns
// the other node's verdict `degraded` naming it once declared down, and it is `ok` again after
// the peer runs again (SIGCONT) and is re-admitted. Each node records its link's round-trip time
// (herald_cluster_link_rtt_seconds).
#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test/integration/cluster/cluster_nodes.hpp"
#include "test/support/eventually.hpp"
#include "test/support/postgres_server.hpp"
#include "test/support/process.hpp"
#include "test/support/temp_dir.hpp"

using namespace herald;
using namespace herald::cluster_test;
using namespace std::chrono_literals;

namespace {

json status_of(const node_spec& n) {
  return ctl_json(n, {"cluster", "status"});
}

bool verdict_is(const node_spec& n, const std::string& verdict) {
  auto s = status_of(n);
  return s.is_object() && s.value("verdict", "") == verdict;
}

}  // namespace

TEST_CASE("cluster_status_reports_ok_with_every_peer_connected_and_degraded_while_one_is_down") {
  testing::temp_dir dir;
  auto cluster = start_static_cluster(dir, {{"na", 1}, {"nb", 2}}, 200ms, 2000ms);
  auto& nodes = cluster.nodes;
  auto& procs = cluster.procs;

  for (const auto& n : nodes) {
    INFO("cluster status on " << n.name);
    REQUIRE(testing::eventually([&] { return verdict_is(n, "ok"); }, 30s, testing::slow_poll_step));
    auto s = status_of(n);
    CHECK(s.value("node", "") == n.name);
    CHECK(s.value("node_id", 0) == n.node_id);
    CHECK(s.value("membership", "") == "static");
    CHECK(s.value("nodes_up", 0) == 2);
    CHECK(s.value("nodes_total", 0) == 2);
    CHECK(s.value("guild_nodes", 0) == 2);
    CHECK(s.value("ring_generation", 0) > 0);
    CHECK(s["routed_publishes"].is_object());
    CHECK(s["reasons"].empty());
    REQUIRE(s["peers"].size() == 1);
    CHECK(s["peers"][0].value("name", "") != n.name);
    CHECK(s["peers"][0].value("status", "") == "up");
    CHECK(s["peers"][0].value("connected", false));
  }

  // Each node measures its link to the other (a ping echoed with every heartbeat).
  CHECK(testing::eventually(
      [&] { return metric(nodes[0], "herald_cluster_link_rtt_seconds_count{peer=\"nb\"}") > 0; },
      30s, testing::slow_poll_step));
  CHECK(testing::eventually(
      [&] { return metric(nodes[1], "herald_cluster_link_rtt_seconds_count{peer=\"na\"}") > 0; },
      30s, testing::slow_poll_step));

  // Text mode: key=value lines.
  auto text = testing::run_process(testing::bin_path("heraldctl"),
                                   {"--node", "127.0.0.1:" + std::to_string(nodes[0].admin),
                                    "--data-dir", nodes[0].data, "cluster", "status"},
                                   10s);
  INFO("text: " << text.out << text.err);
  CHECK(text.exit_code == 0);
  CHECK(text.out.find("node=na\n") != std::string::npos);
  CHECK(text.out.find("nodes_up=2\nnodes_total=2\n") != std::string::npos);
  CHECK(text.out.find("peer=2 name=nb status=up connected=true\n") != std::string::npos);
  CHECK(text.out.find("verdict=ok\n") != std::string::npos);

  // nb frozen: declared down by na after the failure timeout, na's verdict is degraded.
  procs[1]->send_signal(SIGSTOP);
  CHECK(testing::eventually([&] { return verdict_is(nodes[0], "degraded"); }, 30s,
                            testing::slow_poll_step));
  auto degraded = status_of(nodes[0]);
  INFO("degraded: " << degraded.dump());
  CHECK(degraded.value("nodes_up", 0) == 1);
  CHECK(degraded.value("nodes_total", 0) == 2);
  REQUIRE(!degraded["reasons"].empty());
  CHECK(degraded["reasons"][0].get<std::string>().find("nb") != std::string::npos);
  procs[1]->send_signal(SIGCONT);

  // Running again: re-admitted, ok everywhere.
  for (const auto& n : nodes) {
    INFO("cluster status on " << n.name << " after SIGCONT");
    CHECK(testing::eventually([&] { return verdict_is(n, "ok"); }, 30s, testing::slow_poll_step));
  }
  stop_cleanly(nodes, procs);
}
