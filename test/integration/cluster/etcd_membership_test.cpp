// SPDX-License-Identifier: Apache-2.0
// Three real heraldd processes with cluster.membership = "etcd" (a real etcd from
// tools/local-etcd, one PostgreSQL database, one token secret): they see each other up, a
// SIGKILLed node is declared down within its lease bound and, restarted, is re-admitted as a new
// incarnation; a frozen node (SIGSTOP) is down until SIGCONT and then back as a new incarnation;
// while etcd is down the nodes keep their view and /readyz says why.
#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <memory>
#include <set>
#include <tuple>

#include <nlohmann/json.hpp>

#include "runtime/net/http_client.hpp"
#include "test/integration/cluster/cluster_nodes.hpp"
#include "test/support/eventually.hpp"
#include "test/support/postgres_server.hpp"
#include "test/support/process.hpp"
#include "test/support/temp_dir.hpp"
#include "tools/local-etcd/local_etcd.hpp"

using namespace herald;
using namespace std::chrono_literals;
using namespace herald::cluster_test;

namespace {

constexpr auto lease_ttl = 2s;
/// A key goes at most one TTL after its last renewal; readers notice at their next read (a
/// third of the TTL) and etcd checks expiries every half second.
constexpr auto down_bound = lease_ttl + lease_ttl / 3 + 1s;

using row = std::tuple<int, std::string, std::string, std::string>;
std::set<row> rows_of(const json& nodes) {
  std::set<row> out;
  if (nodes.is_array()) {
    for (const auto& n : nodes) {
      out.insert(
          {n.value("id", -1), n.value("name", ""), n.value("address", ""), n.value("status", "")});
    }
  }
  return out;
}

net::client_response readyz(const node_spec& n) {
  return net::http_fetch("127.0.0.1", n.admin, "GET", "/readyz", {}, 2s);
}

}  // namespace

TEST_CASE("three_etcd_members_see_each_other_and_a_killed_or_frozen_node_is_down_then_back") {
  tools::local_etcd_server etcd;
  testing::temp_dir dir;
  // Plaintext links on loopback: this test is about membership (etcd_links_test has mutual TLS).
  auto cluster = start_cluster(dir, {{"na", 1}, {"nb", 2}, {"nc", 3}},
                               [&](const running_cluster&, const node_spec&) {
                                 return etcd_membership_lines(etcd.endpoint(), "/it/", lease_ttl) +
                                        "allow_plaintext = true\n";
                               });
  auto& nodes = cluster.nodes;
  auto& procs = cluster.procs;
  std::set<row> expected;
  for (const auto& n : nodes) {
    expected.insert({n.node_id, n.name, cluster_address(n), "up"});
  }
  for (const auto& n : nodes) {
    INFO("nodes --json on " << n.name);
    CHECK(testing::eventually([&] { return rows_of(nodes_json(n)) == expected; }, 30s,
                              testing::slow_poll_step));
  }

  // SIGKILL nc: no revoke, its lease expires; na and nb declare it down within the bound.
  auto before = incarnation_of(nodes_json(nodes[0]), 3);
  REQUIRE(before >= 1);
  procs[2]->send_signal(SIGKILL);
  REQUIRE(procs[2]->wait_for(10s));
  for (size_t i = 0; i < 2; ++i) {
    INFO("node " << nodes[i].name << " after SIGKILL of nc");
    CHECK(testing::eventually([&] { return status_of(nodes_json(nodes[i]), 3) == "down"; },
                              down_bound + 3s, 100ms));
  }
  // Restarted: re-admitted everywhere as a new incarnation.
  restart_node(cluster, 2);
  for (size_t i = 0; i < 2; ++i) {
    INFO("node " << nodes[i].name << " after the restart of nc; nc stderr: " << procs[2]->err());
    CHECK(testing::eventually(
        [&] {
          auto view = nodes_json(nodes[i]);
          return status_of(view, 3) == "up" && incarnation_of(view, 3) > before;
        },
        30s, 100ms));
  }

  // SIGSTOP nb: its lease expires while it is frozen; SIGCONT: it registers again.
  auto nb_before = incarnation_of(nodes_json(nodes[0]), 2);
  procs[1]->send_signal(SIGSTOP);
  CHECK(testing::eventually([&] { return status_of(nodes_json(nodes[0]), 2) == "down"; },
                            down_bound + 3s, 100ms));
  procs[1]->send_signal(SIGCONT);
  CHECK(testing::eventually(
      [&] {
        auto view = nodes_json(nodes[0]);
        return status_of(view, 2) == "up" && incarnation_of(view, 2) > nb_before;
      },
      20s, 100ms));
  CHECK(testing::eventually([&] { return rows_of(nodes_json(nodes[1])) == expected; }, 20s,
                            testing::slow_poll_step));

  // etcd down: the view stays, /readyz says why; back: ready again.
  etcd.stop();
  CHECK(testing::eventually(
      [&] {
        auto r = readyz(nodes[0]);
        return r.ok() && r.status == 503 && r.body.find("etcd unreachable") != std::string::npos;
      },
      20s, testing::slow_poll_step));
  CHECK(rows_of(nodes_json(nodes[0])) == expected);
  etcd.start();
  CHECK(testing::eventually([&] { return ready(nodes[0]); }, 20s, testing::slow_poll_step));

  stop_cleanly(nodes, procs);
}

TEST_CASE("an_etcd_member_config_on_sqlite_or_without_endpoints_is_refused_at_start") {
  testing::temp_dir dir;
  auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> args{
        "--check-config", "--cluster.membership", "etcd",       "--cluster.allow_plaintext",
        "true",           "--node.data_dir",      dir.file("d")};
    args.insert(args.end(), extra.begin(), extra.end());
    return testing::run_process(testing::bin_path("heraldd"), args, 30s);
  };
  auto no_endpoints = run({});
  CHECK(no_endpoints.exit_code == 2);
  CHECK(no_endpoints.err.find("cluster.etcd_endpoints: must list at least one") !=
        std::string::npos);
  auto sqlite = run({"--cluster.etcd_endpoints", "http://127.0.0.1:2379"});
  CHECK(sqlite.exit_code == 2);
  CHECK(sqlite.err.find("store.backend: a cluster (cluster.membership = \"etcd\") needs "
                        "\"postgres\"") != std::string::npos);
}
