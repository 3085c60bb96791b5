// SPDX-License-Identifier: Apache-2.0
// A relay follows its guild when the ring moves the guild to another node while the old owner
// stays up and connected. Three real heraldd processes on one PostgreSQL database, every node
// with the guild role. The guild's owner is frozen (SIGSTOP) and declared down, so the two
// others order the guild; sessions identify on those two while it is frozen. Then the owner is
// thawed (SIGCONT): it is up again and the ring gives it the guild back, but nothing the relays
// are fed by goes down (the interim owner and its exporter keep running), so only the ring
// change can tell them. The router's ring watch makes both relays feed from the returning owner:
// messages posted afterwards (ordered there) reach both sessions, in order with gapless `s`.
// On the way the returning owner's stale guild incarnation is fenced at its first commit and
// held off for the fence hold, so the relays' first moves are refused: they must keep trying
// (and accept the new exporter's first batch even when it overtakes the attach reply).
#include <catch2/catch.hpp>

#include <signal.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "test/integration/cluster/cluster_nodes.hpp"
#include "test/support/eventually.hpp"
#include "test/support/gateway_client.hpp"
#include "test/support/process.hpp"
#include "test/support/rest_client.hpp"
#include "test/support/temp_dir.hpp"

using namespace herald;
using namespace herald::cluster_test;
using namespace std::chrono_literals;

namespace {

constexpr auto heartbeat = 200ms;
constexpr auto failure_timeout = 2000ms;

/// Reads frames for up to `wait` until a MESSAGE_CREATE whose content starts with `prefix`;
/// returns its content, or "" when none came.
std::string next_message(testing::gateway_client& ws, const std::string& prefix,
                         std::chrono::milliseconds wait) {
  auto deadline = std::chrono::steady_clock::now() + wait;
  for (int frames = 0; frames < 1000; ++frames) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      break;
    }
    auto f = ws.next(left);
    if (!f) {
      break;
    }
    if ((*f)["op"] == 0 && (*f)["t"] == "MESSAGE_CREATE") {
      auto content = (*f)["d"].value("content", "");
      if (content.rfind(prefix, 0) == 0) {
        return content;
      }
    }
  }
  return "";
}

}  // namespace

TEST_CASE(
    "relays_feed_from_the_owner_the_ring_gives_their_guild_back_to_while_the_old_feed_stays_up") {
  testing::temp_dir dir;
  auto cluster =
      start_static_cluster(dir, {{"na", 1}, {"nb", 2}, {"nc", 3}}, heartbeat, failure_timeout);
  auto& nodes = cluster.nodes;
  auto& procs = cluster.procs;
  for (const auto& n : nodes) {
    INFO("nodes --json on " << n.name);
    REQUIRE(testing::eventually([&] { return up_count(ctl_json(n, {"nodes"})) == 3; }, 30s,
                                testing::slow_poll_step));
  }
  auto g = make_member_guild(nodes[0], {"alice", "bob"});
  const auto& alice = g.users[0];
  const auto& bob = g.users[1];
  const auto& guild_id = g.guild_id;
  const auto& general = g.channel;

  auto placed = place_guild(nodes, guild_id);
  const auto& owner = nodes[placed.owner];
  const auto& x = nodes[placed.others[0]];
  const auto& y = nodes[placed.others[1]];
  INFO("owner " << owner.name << ", sessions on " << x.name << " and " << y.name);
  auto up_on = [&](const node_spec& n, int count) {
    INFO("nodes --json on " << n.name);
    REQUIRE(testing::eventually([&] { return up_count(ctl_json(n, {"nodes"})) == count; }, 30s,
                                testing::slow_poll_step));
  };

  // Freeze the owner: x and y declare it down and their rings give the guild to one of them.
  procs[placed.owner]->send_signal(SIGSTOP);
  up_on(x, 2);
  up_on(y, 2);

  // alice on x, bob on y, subscribed while the interim owner orders the guild.
  testing::gateway_client alice_ws{x.gateway};
  testing::gateway_client bob_ws{y.gateway};
  alice_ws.login(alice.value("token", ""), 1);
  bob_ws.login(bob.value("token", ""), 1);
  auto token = alice.value("token", "");
  post_message(x, token, general, "before");
  CHECK(next_message(alice_ws, "before", 20s) == "before");
  CHECK(next_message(bob_ws, "before", 20s) == "before");

  // Thaw it: up again on x and y, and the owner of the guild again in their rings.
  procs[placed.owner]->send_signal(SIGCONT);
  up_on(x, 3);
  up_on(y, 3);
  for (const auto* n : {&x, &y}) {
    auto where = ctl_json(*n, {"where", "guild", guild_id});
    CHECK((where.is_object() ? where.value("owner_node", "") : std::string{}) == owner.name);
  }

  // Events the owner orders before a relay registers with it are not delivered to that
  // relay's sessions (docs/cluster.md), so a poster keeps posting probes (bounded) until both
  // sessions got one. (A read that times out leaves a gateway_client unusable: the readers wait
  // long, the poster keeps the probes coming.)
  std::atomic<bool> stop{false};
  std::thread poster([&] {
    for (int k = 0; k < 150 && !stop.load(); ++k) {
      testing::http_call(x.gateway, "POST", "/api/v10/channels/" + general + "/messages",
                         json{{"content", "probe " + std::to_string(k)}}.dump(),
                         {{"Authorization", "Bot " + token}}, 20s);
      std::this_thread::sleep_for(200ms);  // pacing, not a wait
    }
  });
  auto alice_probe = next_message(alice_ws, "probe", 60s);
  auto bob_probe = next_message(bob_ws, "probe", 60s);
  stop = true;
  poster.join();
  INFO("alice got '" << alice_probe << "', bob got '" << bob_probe << "'");
  if (alice_probe.empty() || bob_probe.empty()) {
    UNSCOPED_INFO(node_logs(nodes, procs));
  }
  REQUIRE(!alice_probe.empty());
  REQUIRE(!bob_probe.empty());

  // Once fed, every later message arrives, in order.
  post_message(y, token, general, "after 1");
  post_message(x, token, general, "after 2");
  for (auto* ws : {&alice_ws, &bob_ws}) {
    CHECK(next_message(*ws, "after", 20s) == "after 1");
    CHECK(next_message(*ws, "after", 20s) == "after 2");
    CHECK(ws->seq_errors().empty());
  }

  stop_cleanly(nodes, procs);
}
