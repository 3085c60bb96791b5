// SPDX-License-Identifier: Apache-2.0
// Resume in a cluster of two real heraldd processes: READY's resume_gateway_url is the node's own
// gateway.public_url and its session id carries the node's cluster.node_id. A Resume that lands
// on the other node takes the session over when its connection is gone (docs/cluster.md,
// "Session migration"): RESUMED there with the frames the client missed, resumable there again,
// and taken back by the first node on a Resume there (a session moves as often as its client
// does); a Resume with another user's token or a forged id gets op 9 d=false, never a replay of
// another session.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test/integration/cluster/cluster_nodes.hpp"
#include "test/support/gateway_client.hpp"
#include "test/support/postgres_server.hpp"
#include "test/support/process.hpp"
#include "test/support/temp_dir.hpp"

using namespace herald;
using namespace herald::cluster_test;
using namespace std::chrono_literals;

namespace {

/// The node bits of a READY session id (16 hex digits, actors/session).
uint64_t node_of(const std::string& session_id) {
  return std::stoull(session_id, nullptr, 16) >> 54;
}

std::string public_url(const node_spec& n) {
  return "ws://127.0.0.1:" + std::to_string(n.gateway);  // gateway.public_url's default
}

}  // namespace

TEST_CASE("a_resume_on_another_node_takes_a_detached_session_over_and_a_foreign_one_gets_op_9") {
  testing::temp_dir dir;
  auto cluster = start_static_cluster(dir, {{"na", 1}, {"nb", 2}}, 200ms, 5000ms);
  auto& nodes = cluster.nodes;
  auto& procs = cluster.procs;

  auto alice = ctl_json(nodes[0], {"user", "create", "--name", "alice"});
  auto token = alice.value("token", "");
  REQUIRE(!token.empty());

  // Identify on na: READY names na's public URL and a session id with na's node id.
  std::string session_id;
  uint64_t seq = 0;
  {
    testing::gateway_client ws{nodes[0].gateway};
    auto ready = ws.login(token, 0);
    CHECK(ready["d"].value("resume_gateway_url", "") == public_url(nodes[0]));
    session_id = ws.session_id();
    REQUIRE(!session_id.empty());
    CHECK(node_of(session_id) == static_cast<uint64_t>(nodes[0].node_id));
    seq = ws.last_seq();
    ws.drop();  // no close frame: the session stays resumable
  }
  // nb's READY names nb's URL and nb's node id: the two nodes' session ids never collide.
  {
    testing::gateway_client ws{nodes[1].gateway};
    auto ready = ws.login(token, 0);
    CHECK(ready["d"].value("resume_gateway_url", "") == public_url(nodes[1]));
    CHECK(node_of(ws.session_id()) == static_cast<uint64_t>(nodes[1].node_id));
    CHECK(ws.session_id() != session_id);
    ws.close();
  }

  // Another user's token for alice's session on nb: op 9 false, the session stays on na.
  auto mallory = ctl_json(nodes[0], {"user", "create", "--name", "mallory"});
  {
    testing::gateway_client ws{nodes[1].gateway};
    REQUIRE(ws.next_op(10));
    ws.resume(mallory.value("token", ""), session_id, seq);
    auto invalid = ws.next_op(9, "", 10s);
    REQUIRE(invalid);
    CHECK((*invalid)["d"] == false);
    ws.close();
  }
  // A Resume with nb's node bits but no such session on nb: op 9 false too.
  {
    testing::gateway_client ws{nodes[1].gateway};
    REQUIRE(ws.next_op(10));
    uint64_t forged =
        (uint64_t{2} << 54) | (std::stoull(session_id, nullptr, 16) & ((uint64_t{1} << 54) - 1));
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(forged));
    ws.resume(token, hex, seq);
    auto invalid = ws.next_op(9, "", 10s);
    REQUIRE(invalid);
    CHECK((*invalid)["d"] == false);
    ws.close();
  }

  // alice's Resume lands on nb: nb takes the session over from na (its connection is gone),
  // RESUMED with gapless seqs; nb keeps it under na's node bits for a later Resume there.
  {
    testing::gateway_client ws{nodes[1].gateway};
    REQUIRE(ws.next_op(10));
    ws.set_last_seq(seq);
    ws.resume(token, session_id, seq);
    CHECK(ws.next_op(0, "RESUMED", 10s));
    CHECK(ws.seq_errors().empty());
    seq = ws.last_seq();
    ws.drop();
  }
  {
    testing::gateway_client ws{nodes[1].gateway};
    REQUIRE(ws.next_op(10));
    ws.set_last_seq(seq);
    ws.resume(token, session_id, seq);
    CHECK(ws.next_op(0, "RESUMED", 10s));
    seq = ws.last_seq();
    ws.drop();
  }
  // Back on na, which handed it over: na finds it on nb (the other node up) and takes it back,
  // as a rolling restart moves a session twice.
  {
    testing::gateway_client ws{nodes[0].gateway};
    REQUIRE(ws.next_op(10));
    ws.set_last_seq(seq);
    ws.resume(token, session_id, seq);
    CHECK(ws.next_op(0, "RESUMED", 10s));
    CHECK(ws.seq_errors().empty());
    ws.close();
  }

  // Refused resumes are counted like any other failed resume; the hand-over on both sides.
  CHECK(metric(nodes[1], "herald_gateway_resumes_total{result=\"failed\"}") >= 2);
  for (const auto& n : nodes) {
    CHECK(metric(n, "herald_gateway_resumes_total{result=\"migrated\"}") == 1);
    CHECK(metric(n, "herald_gateway_sessions_migrated_total{direction=\"in\"}") == 1);
    CHECK(metric(n, "herald_gateway_sessions_migrated_total{direction=\"out\"}") == 1);
  }
  stop_cleanly(nodes, procs);
}
