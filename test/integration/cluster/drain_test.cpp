// SPDX-License-Identifier: Apache-2.0
// `heraldctl drain` in a cluster of three real heraldd processes on one PostgreSQL database: the
// node that owns a guild and holds two of its members' gateway sessions is drained. It leaves
// every ring (the others show it `draining`, `where` names another owner), /readyz answers 503
// "draining", new gateway connections are refused, REST is still served on it, its sessions get
// op 7 and close 4000; they identify on another node and receive what is posted afterwards.
// Every POST answered 200 (before, during, after the drain, on the drained node and on the
// others) is in the channel's history exactly once, in order. `drain --wait` ends with
// `state=drained`, the node owns no guild and counts its migrated sessions, and it stops
// cleanly on SIGTERM. tools/cluster/rolling-restart.sh restarts two of three nodes in turn
// (drain, restart command, ready and every node up) and the cluster serves the guild after; a
// client of the first node resumes on the second, then on the third, with no re-identify.
#include <catch2/catch.hpp>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "test/integration/cluster/cluster_nodes.hpp"
#include "test/support/admin_auth.hpp"
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
constexpr auto failure_timeout = 5000ms;

/// POSTs `content` on `n` until a 200 (at most 40 attempts: a 503 while the rings change is
/// retried); each attempt has its own content (`content`, `content.r1`, …) so that an attempt
/// whose 503 came after it was applied never looks like a duplicate. Returns the content that
/// got 200, or "" when none did.
std::string post_acked(const node_spec& n, const std::string& token, const std::string& channel,
                       const std::string& content) {
  for (int attempt = 0; attempt < 40; ++attempt) {
    auto text = attempt == 0 ? content : content + ".r" + std::to_string(attempt);
    auto r = testing::http_call(n.gateway, "POST", "/api/v10/channels/" + channel + "/messages",
                                json{{"content", text}}.dump(), {{"Authorization", "Bot " + token}},
                                20s);
    if (r.status == 200) {
      return text;
    }
    INFO("post " << text << " on " << n.name << ": " << r.status << " " << r.body);
    REQUIRE((r.status == 503 || r.status == 0));
    std::this_thread::sleep_for(100ms);  // pacing the retries, not a wait for a state
  }
  return {};
}

/// Reads a session's frames up to op 7 Reconnect; the MESSAGE_CREATE contents before it. Bounded:
/// 500 frames, 20 s each.
std::vector<std::string> messages_until_reconnect(testing::gateway_client& c, bool& reconnect) {
  std::vector<std::string> seen;
  reconnect = false;
  for (int frames = 0; frames < 500 && !reconnect; ++frames) {
    auto f = c.next(20s);
    if (!f) {
      break;
    }
    if ((*f)["op"] == 0 && (*f)["t"] == "MESSAGE_CREATE") {
      seen.push_back((*f)["d"].value("content", ""));
    }
    reconnect = (*f)["op"] == 7;
  }
  return seen;
}

/// A file's whole text ("" when it cannot be read).
std::string text_of(const std::string& path) {
  std::ifstream in{path};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TEST_CASE("a_drained_node_hands_its_guilds_and_sessions_to_the_others_without_losing_a_message") {
  testing::temp_dir dir;
  auto cluster = start_draining_cluster(dir, {{"na", 1}, {"nb", 2}, {"nc", 3}}, heartbeat,
                                        failure_timeout, 2000ms);
  auto& nodes = cluster.nodes;
  auto& procs = cluster.procs;
  require_all_up(nodes);

  auto g = make_member_guild(nodes[0], {"alice", "bob", "carol"});
  const auto& guild_id = g.guild_id;
  const auto& channel = g.channel;
  const auto& alice = g.users[0];
  const auto& bob = g.users[1];
  const auto& carol = g.users[2];
  auto placed = place_guild(nodes, guild_id);
  const auto& d = nodes[placed.owner];  // the node to drain: owner of the guild, sessions on it
  const auto& e = nodes[placed.others[0]];
  const auto& f = nodes[placed.others[1]];
  INFO("draining " << d.name << "; the others " << e.name << " and " << f.name);
  auto token = alice.value("token", "");

  testing::gateway_client bob_ws{d.gateway};
  testing::gateway_client carol_ws{d.gateway};
  bob_ws.login(bob.value("token", ""), 1);
  carol_ws.login(carol.value("token", ""), 1);

  std::vector<std::string> acked;
  for (int i = 0; i < 4; ++i) {
    acked.push_back(post_message(i % 2 == 0 ? d : e, token, channel, "before " + std::to_string(i))
                        .value("content", ""));
  }
  CHECK(messages_until(bob_ws, "before 3") == acked);
  CHECK(messages_until(carol_ws, "before 3") == acked);

  // Drain: the answer says draining; readiness goes, the others see it draining and move the
  // guild, new gateway connections are refused, REST on it is still served.
  auto started = ctl_json(d, {"drain"});
  REQUIRE(started.is_object());
  CHECK(started.value("state", "") == "draining");
  auto readyz = testing::http_call(d.admin, "GET", "/readyz");
  CHECK(readyz.status == 503);
  CHECK(readyz.body.find("draining") != std::string::npos);
  for (const auto* n : {&e, &f}) {
    CHECK(testing::eventually([&] { return status_of(nodes_json(*n), d.node_id) == "draining"; },
                              20s, testing::slow_poll_step));
  }
  for (const auto* n : {&d, &e, &f}) {
    CHECK(testing::eventually(
        [&] {
          auto w = ctl_json(*n, {"where", "guild", guild_id});
          return w.is_object() && w.value("owner_node", d.name) != d.name;
        },
        20s, testing::slow_poll_step));
  }
  CHECK_THROWS(testing::gateway_client{d.gateway});

  for (int i = 0; i < 12; ++i) {
    auto text = post_acked(i % 2 == 0 ? d : (i % 3 == 0 ? e : f), token, channel,
                           "during " + std::to_string(i));
    REQUIRE(!text.empty());
    acked.push_back(text);
  }

  // Each session is told to reconnect, then closed 4000 (resumable), and identifies elsewhere.
  for (auto* ws : {&bob_ws, &carol_ws}) {
    bool reconnect = false;
    auto during = messages_until_reconnect(*ws, reconnect);
    CHECK(reconnect);
    CHECK(in_order_within(during, acked));
    CHECK(ws->wait_close(10s) == uint16_t{4000});
    CHECK(ws->seq_errors().empty());
  }
  testing::gateway_client bob_again{e.gateway};
  testing::gateway_client carol_again{f.gateway};
  bob_again.login(bob.value("token", ""), 1);
  carol_again.login(carol.value("token", ""), 1);

  std::vector<std::string> after;
  for (int i = 0; i < 4; ++i) {
    after.push_back(post_message(i % 2 == 0 ? d : f, token, channel, "after " + std::to_string(i))
                        .value("content", ""));
  }
  acked.insert(acked.end(), after.begin(), after.end());
  CHECK(messages_until(bob_again, "after 3") == after);
  CHECK(messages_until(carol_again, "after 3") == after);
  CHECK(bob_again.seq_errors().empty());
  CHECK(carol_again.seq_errors().empty());

  // Every acknowledged POST is in the history once, in order (a 503'd attempt may be too).
  auto stored = channel_history(e, token, channel);
  CHECK(in_order_within(acked, stored));
  for (const auto& text : acked) {
    INFO(text);
    CHECK(std::count(stored.begin(), stored.end(), text) == 1);
  }

  // drain --wait (again: it joins the drain under way) ends drained; nothing is owned there.
  auto waited = testing::run_process(testing::bin_path("heraldctl"),
                                     {"--node", "127.0.0.1:" + std::to_string(d.admin),
                                      "--data-dir", d.data, "drain", "--wait", "--timeout", "60"},
                                     70s);
  INFO("drain --wait: " << waited.out << waited.err);
  CHECK(waited.exit_code == std::optional<int>{0});
  CHECK(waited.out.rfind("state=draining\n", 0) == 0);
  CHECK(waited.out.find("guilds_owned=0\nsessions=0\n") != std::string::npos);
  CHECK(waited.out.size() >= 14);
  CHECK(waited.out.substr(waited.out.size() - 14) == "state=drained\n");
  auto status = testing::http_call(d.admin, "GET", "/v1/drain", {},
                                   testing::admin_auth(testing::read_admin_token(d.data)));
  CHECK(status.json().value("guilds_owned", -1) == 0);
  CHECK(status.json().value("sessions", -1) == 0);
  // Bob and Carol identified again elsewhere: their old sessions waited, detached, for a resume
  // that never came, and the drain closed them after cluster.drain_detached_wait_ms.
  CHECK(status.json().value("sessions_detached", -1) == 0);
  CHECK(metric(d, "herald_drain_detached_sessions_closed_total") == 2);
  CHECK(metric(d, "herald_node_draining") == 1);
  CHECK(metric(d, "herald_gateway_sessions_migrated_total{direction=\"told\"}") == 2);
  CHECK(metric(e, "herald_node_draining") == 0);
  auto w = ctl_json(e, {"where", "guild", guild_id});
  CHECK(w.value("owner_node", d.name) != d.name);
  CHECK(w.value("alive", false));

  // The drained node stops cleanly; so do the others.
  stop_cleanly(nodes, procs);
}

TEST_CASE("rolling_restart_drains_restarts_and_waits_for_each_node_in_turn") {
  testing::temp_dir dir;
  auto cluster = start_draining_cluster(dir, {{"na", 1}, {"nb", 2}, {"nc", 3}}, heartbeat,
                                        failure_timeout, 500ms);
  auto& nodes = cluster.nodes;
  require_all_up(nodes);
  auto alice = create_user(nodes[0], "alice");
  auto guild_id = created_id(nodes[0], {"guild", "create", "--name", "g", "--owner", id_of(alice)});
  auto channel =
      created_id(nodes[0], {"channel", "create", "--guild", guild_id, "--name", "general"});
  auto token = alice.value("token", "");
  post_message(nodes[0], token, channel, "before");

  // A client on na, where the restarts begin: told op 7, it resumes on nb (as a load balancer
  // would send it to a ready node), told op 7 again when nb restarts, it resumes on nc, which
  // finds the session on nb although its id names na: two moves, no re-identify.
  std::vector<std::unique_ptr<testing::gateway_client>> hops;
  hops.push_back(std::make_unique<testing::gateway_client>(nodes[0].gateway));
  hops.back()->login(token, 1);
  int reidentifies = 0;
  int resumed = 0;
  std::thread follower{[&] {
    for (size_t next : {size_t{1}, size_t{2}}) {
      auto& from = *hops.back();
      bool reconnect = false;
      for (int frames = 0; frames < 1000 && !reconnect; ++frames) {
        auto f = from.next(90s);
        if (!f) {
          return;
        }
        reconnect = (*f)["op"] == 7;
      }
      hops.push_back(std::make_unique<testing::gateway_client>(nodes[next].gateway));
      auto& to = *hops.back();
      if (!to.next_op(10)) {
        return;
      }
      to.set_last_seq(from.last_seq());
      to.resume(token, hops.front()->session_id(), from.last_seq());
      for (int frames = 0; frames < 1000; ++frames) {
        auto f = to.next(30s);
        if (!f || (*f)["op"] == 9) {
          ++reidentifies;
          return;
        }
        if ((*f)["op"] == 0 && (*f)["t"] == "RESUMED") {
          ++resumed;
          break;
        }
      }
    }
  }};

  // Each node's restart command: SIGTERM the running process, wait for it to go, start a new
  // heraldd with the same config in the background (its pid kept to stop it at the end). One
  // run of the script per node: each node has its own admin token (--token-file).
  std::vector<std::string> pid_files;
  for (size_t i = 0; i < 2; ++i) {  // na, then nb; nc keeps running
    const auto& n = nodes[i];
    auto pid = std::to_string(cluster.procs[i]->pid());
    pid_files.push_back(dir.file(n.name + ".pid"));
    auto admin = "127.0.0.1:" + std::to_string(n.admin);
    // The old process stays a zombie until this test reaps it: "gone" is not running (ps).
    auto restart = admin + "=kill -TERM " + pid + "; while ps -o stat= -p " + pid +
                   " | grep -qv Z; do sleep 0.1; done; " + testing::bin_path("heraldd") +
                   " --config " + cluster.configs[i] + " >>" + dir.file(n.name + ".log") +
                   " 2>&1 & echo $! > " + pid_files.back();
    auto run = testing::run_process(
        std::string{HERALD_TEST_SOURCE_DIR} + "/tools/cluster/rolling-restart.sh",
        {"--heraldctl", testing::bin_path("heraldctl"), "--timeout", "60", "--token-file",
         n.data + "/admin.token", restart},
        200s);
    INFO("rolling-restart of " << n.name << ": " << run.out << run.err << "\n"
                               << text_of(dir.file(n.name + ".log")));
    REQUIRE(run.exit_code == std::optional<int>{0});
    CHECK(run.out.find("[1/1] " + admin + ": draining") != std::string::npos);
    CHECK(run.out.find("state=drained") != std::string::npos);
    CHECK(run.out.find("every node up") != std::string::npos);
    CHECK(run.out.find("done: 1 node(s) restarted") != std::string::npos);
  }

  // The cluster is whole again and serves the guild; the client that moved twice got no op 9.
  require_all_up(nodes);
  follower.join();
  CHECK(resumed == 2);
  CHECK(reidentifies == 0);
  post_message(nodes[1], token, channel, "after");
  auto stored = channel_history(nodes[2], token, channel);
  CHECK(stored == std::vector<std::string>{"before", "after"});
  REQUIRE(hops.size() == 3);
  CHECK(messages_until(*hops.back(), "after") == std::vector<std::string>{"after"});
  for (const auto& hop : hops) {
    CHECK(hop->seq_errors().empty());
  }

  for (const auto& f : pid_files) {
    ::kill(std::stoi(text_of(f)), SIGTERM);  // the restarted na and nb
  }
  cluster.procs[2]->send_signal(SIGTERM);
  CHECK(cluster.procs[2]->wait_for(60s) == std::optional<int>{0});
}
