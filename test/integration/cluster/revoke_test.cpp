// SPDX-License-Identifier: Apache-2.0
// A token revoked on one node of a cluster of three real heraldd processes (one PostgreSQL
// database) reaches the others (issue 12): the user's gateway connection on node B closes with
// 4004 although the revoke ran on node A's admin API, and the old token is refused on B and on C
// (Identify 4004, REST 401) although both had checked it, and so cached its epoch, before the
// revoke. Another user's connection on B stays open; the fresh token works on B. A sent one
// notice to each peer, B and C each received one.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "test/integration/cluster/cluster_nodes.hpp"
#include "test/support/eventually.hpp"
#include "test/support/gateway_client.hpp"
#include "test/support/rest_client.hpp"
#include "test/support/temp_dir.hpp"

using namespace herald;
using namespace herald::cluster_test;
using namespace std::chrono_literals;

namespace {

constexpr auto heartbeat = 200ms;
constexpr auto failure_timeout = 5000ms;

/// Identify with `token` on `n`'s gateway; the close code the node answers with (nullopt: no
/// close within 20 s, e.g. READY).
std::optional<uint16_t> identify_close_code(const node_spec& n, const std::string& token) {
  testing::gateway_client ws{n.gateway};
  REQUIRE(ws.next());  // Hello
  ws.identify(token);
  return ws.wait_close(20s);
}

}  // namespace

TEST_CASE(
    "a_token_revoked_on_one_node_closes_the_users_connection_on_another_and_is_refused_on_"
    "every_node") {
  testing::temp_dir dir;
  auto cluster =
      start_static_cluster(dir, {{"na", 1}, {"nb", 2}, {"nc", 3}}, heartbeat, failure_timeout);
  auto& nodes = cluster.nodes;
  for (const auto& n : nodes) {
    INFO("nodes --json on " << n.name);
    REQUIRE(testing::eventually([&] { return up_count(nodes_json(n)) == 3; }, 30s,
                                testing::slow_poll_step));
  }
  const auto& a = nodes[0];
  const auto& b = nodes[1];
  const auto& c = nodes[2];

  auto alice = ctl_json(a, {"user", "create", "--name", "alice"});
  auto bob = ctl_json(a, {"user", "create", "--name", "bob"});
  REQUIRE(!id_of(alice).empty());
  REQUIRE(!id_of(bob).empty());
  auto old_token = alice.value("token", "");

  // Alice is connected on B; C checked her token too (REST): both cache her epoch.
  testing::gateway_client alice_ws{b.gateway};
  alice_ws.login(old_token, 0);
  testing::gateway_client bob_ws{b.gateway};
  bob_ws.login(bob.value("token", ""), 0);
  REQUIRE(testing::rest_client{c.gateway, old_token}.get("/users/@me").status == 200);

  auto revoked = ctl_json(a, {"token", "revoke", "--user", id_of(alice)});
  REQUIRE(revoked.is_object());
  auto fresh = revoked.value("token", "");
  REQUIRE(!fresh.empty());

  INFO("nb stderr: " << cluster.procs[1]->err());
  CHECK(alice_ws.wait_close(20s) == 4004);
  bob_ws.heartbeat();
  CHECK(bob_ws.next_op(11, {}, 10s));  // another user's connection is untouched

  // The notices to nb and nc leave together; nc's may still be on its way.
  for (const auto* n : {&b, &c}) {
    INFO("revoke notices received by " << n->name);
    CHECK(testing::eventually(
        [&] { return metric(*n, "herald_cluster_revoke_notices_total{direction=\"in\"}") == 1; },
        20s, testing::slow_poll_step));
  }
  CHECK(identify_close_code(b, old_token) == 4004);
  CHECK(identify_close_code(c, old_token) == 4004);
  CHECK(identify_close_code(a, old_token) == 4004);
  CHECK(testing::rest_client{c.gateway, old_token}.get("/users/@me").status == 401);
  CHECK(testing::rest_client{b.gateway, old_token}.get("/users/@me").status == 401);

  testing::gateway_client fresh_ws{b.gateway};
  auto ready = fresh_ws.login(fresh, 0);
  CHECK(ready["d"]["user"]["id"] == id_of(alice));

  CHECK(metric(a, "herald_cluster_revoke_notices_total{direction=\"out\"}") == 2);
  CHECK(metric(a, "herald_cluster_revoke_notices_failed_total") == 0);

  stop_cleanly(nodes, cluster.procs);
}
