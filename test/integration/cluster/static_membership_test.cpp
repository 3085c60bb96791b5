// SPDX-License-Identifier: Apache-2.0
// Three real heraldd processes on loopback in one cluster (static membership, one PostgreSQL
// database, one token secret): they see each other up, `heraldctl nodes --json` agrees on every
// node, a frozen node (SIGSTOP) is declared down within cluster.failure_timeout_ms and comes
// back (SIGCONT) as a new incarnation, a node with a duplicate node id is refused with the
// one-line error, garbage on a cluster port is counted and the node survives.
#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <memory>
#include <set>
#include <tuple>

#include <nlohmann/json.hpp>

#include "runtime/net/http_client.hpp"
#include "test/integration/cluster/cluster_nodes.hpp"
#include "test/support/admin_auth.hpp"
#include "test/support/eventually.hpp"
#include "test/support/postgres_server.hpp"
#include "test/support/process.hpp"
#include "test/support/temp_dir.hpp"

using namespace herald;
using namespace std::chrono_literals;
using json = nlohmann::json;
using namespace herald::cluster_test;

namespace {

constexpr auto heartbeat = 200ms;
constexpr auto failure_timeout = 1500ms;

/// (id, name, address, roles, status) of every node in `nodes --json`, the fields every node must
/// agree on.
using row = std::tuple<int, std::string, std::string, std::string, std::string>;
std::set<row> rows_of(const json& nodes) {
  std::set<row> out;
  if (!nodes.is_array()) {
    return out;
  }
  for (const auto& n : nodes) {
    out.insert({n.value("id", -1), n.value("name", ""), n.value("address", ""),
                n.value("roles", json::array()).dump(), n.value("status", "")});
  }
  return out;
}

}  // namespace

TEST_CASE("three_nodes_see_each_other_detect_a_frozen_node_and_refuse_a_duplicate_id") {
  testing::temp_dir dir;
  auto cluster =
      start_static_cluster(dir, {{"na", 1}, {"nb", 2}, {"nc", 3}}, heartbeat, failure_timeout);
  auto& nodes = cluster.nodes;
  auto& procs = cluster.procs;

  // Everyone sees everyone up, and every node gives the same answer.
  std::set<row> expected;
  for (const auto& n : nodes) {
    expected.insert({n.node_id, n.name, cluster_address(n), "[\"gateway\",\"guild\"]", "up"});
  }
  for (const auto& n : nodes) {
    INFO("nodes --json on " << n.name);
    CHECK(testing::eventually([&] { return rows_of(ctl_json(n, {"nodes"})) == expected; }, 30s,
                              testing::slow_poll_step));
  }
  auto ring = ctl_json(nodes[0], {"ring"});
  REQUIRE(ring.is_object());
  CHECK(ring.value("generation", 0) > 0);
  CHECK(ring.value("vnodes", 0) == 256);
  CHECK(ring["nodes"].size() == 3);
  CHECK(metric(nodes[0], "herald_cluster_nodes_up") == 3);

  // SIGSTOP nc: na and nb declare it down within the failure timeout (plus heartbeat and
  // polling slack), although its sockets stay open.
  auto before = incarnation_of(ctl_json(nodes[0], {"nodes"}), 3);
  REQUIRE(before >= 1);
  procs[2]->send_signal(SIGSTOP);
  auto stopped_at = std::chrono::steady_clock::now();
  for (size_t i = 0; i < 2; ++i) {
    INFO("node " << nodes[i].name << " after SIGSTOP of nc");
    CHECK(testing::eventually([&] { return status_of(ctl_json(nodes[i], {"nodes"}), 3) == "down"; },
                              failure_timeout + 5s, 100ms));
  }
  CHECK(std::chrono::steady_clock::now() - stopped_at < failure_timeout + 5s);
  CHECK(metric(nodes[0], "herald_cluster_nodes_up") == 2);

  // SIGCONT: nc is re-admitted as a new incarnation on both, and sees both up.
  procs[2]->send_signal(SIGCONT);
  for (size_t i = 0; i < 2; ++i) {
    INFO("node " << nodes[i].name << " after SIGCONT of nc");
    CHECK(testing::eventually(
        [&] {
          auto view = ctl_json(nodes[i], {"nodes"});
          return status_of(view, 3) == "up" && incarnation_of(view, 3) > before;
        },
        20s, 100ms));
  }
  CHECK(testing::eventually([&] { return rows_of(ctl_json(nodes[2], {"nodes"})) == expected; }, 20s,
                            testing::slow_poll_step));

  // A fourth node with nb's id is refused at start with the one-line error naming the key.
  node_spec dup{"nd", 2};
  dup.data = dir.file("data-nd");
  auto dup_cfg = dir.write_file("nd.toml", config_text(dup, cluster.seeds, cluster.pg_url,
                                                       cluster.secret, heartbeat, failure_timeout));
  testing::child_process dup_proc{testing::bin_path("heraldd"), {"--config", dup_cfg}};
  auto code = dup_proc.wait_for(60s);
  INFO("nd stderr: " << dup_proc.err());
  REQUIRE(code);
  CHECK(*code == 1);
  CHECK(dup_proc.err().find("cluster.node_id: 2 of node nd (" + cluster_address(dup) +
                            ") is already used by node nb (" + cluster_address(nodes[1]) + ")") !=
        std::string::npos);
  // The cluster did not take it in.
  CHECK(rows_of(ctl_json(nodes[0], {"nodes"})) == expected);

  // Garbage on a cluster port is dropped and counted; the node carries on.
  send_garbage(nodes[0].cluster);
  CHECK(testing::eventually(
      [&] { return metric(nodes[0], "herald_cluster_connections_refused_total") >= 1; }, 10s));
  CHECK(ready(nodes[0]));
  CHECK(rows_of(ctl_json(nodes[0], {"nodes"})) == expected);

  stop_cleanly(nodes, procs);
}

TEST_CASE("a_multi_node_config_on_sqlite_or_without_a_secret_file_is_refused_at_start") {
  testing::temp_dir dir;
  auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> args{
        "--check-config", "--cluster.seeds", "127.0.0.1:4999", "--cluster.allow_plaintext",
        "true",           "--node.data_dir", dir.file("d")};
    args.insert(args.end(), extra.begin(), extra.end());
    return testing::run_process(testing::bin_path("heraldd"), args, 30s);
  };
  auto sqlite = run({});
  CHECK(sqlite.exit_code == 2);
  CHECK(sqlite.err.find("heraldd: config error: store.backend: a cluster (cluster.seeds set) "
                        "needs \"postgres\"") == 0);
  auto no_secret =
      run({"--store.backend", "postgres", "--store.postgres_url", "postgresql://x@127.0.0.1/x"});
  CHECK(no_secret.exit_code == 2);
  CHECK(no_secret.err.find("heraldd: config error: identity.secret_file: required in a cluster") ==
        0);
  auto etcd = run({"--cluster.membership", "etcd"});
  CHECK(etcd.exit_code == 2);
  CHECK(etcd.err.find("cluster.etcd_endpoints: must list at least one") != std::string::npos);
}
