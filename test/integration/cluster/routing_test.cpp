// SPDX-License-Identifier: Apache-2.0
// Routing of publishes in a cluster of three real heraldd processes on one PostgreSQL database:
// a message posted by REST on a node that does not own the guild reaches the owner, is stored
// and acknowledged (read back from every node); `heraldctl where guild` names the same owner
// from every node; a publish while the owner is frozen (SIGSTOP) gets the retryable 503 with
// Retry-After within a bound instead of hanging, and succeeds again once it runs (SIGCONT). With
// a failure timeout shorter than the router's request timeout, a publish waiting on a frozen
// owner is failed by the router the moment membership declares the owner down (counted in
// herald_cluster_routed_failed_on_down_total), and the next publish goes to the new owner.
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
#include "test/support/rest_client.hpp"
#include "test/support/temp_dir.hpp"

using namespace herald;
using namespace herald::cluster_test;
using namespace std::chrono_literals;

namespace {

constexpr auto heartbeat = 200ms;
// Long enough that the frozen owner is not declared down (which would move its guilds) while
// the test checks the answer to a publish sent to it.
constexpr auto failure_timeout = 20000ms;
// REST command timeout (5 s) plus slack for a loaded machine.
constexpr auto busy_bound = 12s;
// Shorter than the router's request timeout (dispatch_config::request_timeout, 5 s): the owner
// is declared down while a publish still waits on it.
constexpr auto quick_failure_timeout = 1500ms;

testing::http_answer post(const node_spec& n, const std::string& token, const std::string& channel,
                          const std::string& content) {
  return testing::http_call(n.gateway, "POST", "/api/v10/channels/" + channel + "/messages",
                            json{{"content", content}}.dump(), {{"Authorization", "Bot " + token}},
                            20s);
}

}  // namespace

TEST_CASE("a_publish_on_a_node_that_does_not_own_the_guild_is_routed_to_its_owner") {
  testing::temp_dir dir;
  auto cluster =
      start_static_cluster(dir, {{"na", 1}, {"nb", 2}, {"nc", 3}}, heartbeat, failure_timeout);
  auto& nodes = cluster.nodes;
  auto& procs = cluster.procs;
  require_all_up(nodes);

  auto alice = ctl_json(nodes[0], {"user", "create", "--name", "alice"});
  auto token = alice.value("token", "");
  REQUIRE(!token.empty());
  auto guild_id =
      id_of(ctl_json(nodes[0], {"guild", "create", "--name", "g", "--owner", id_of(alice)}));
  REQUIRE(!guild_id.empty());
  // Channel creation is itself a publish: routed to the owner from na.
  auto channel =
      id_of(ctl_json(nodes[0], {"channel", "create", "--guild", guild_id, "--name", "general"}));
  REQUIRE(!channel.empty());

  // Every node names the same owner, and the owner runs the guild.
  std::string owner_name;
  for (const auto& n : nodes) {
    auto where = ctl_json(n, {"where", "guild", guild_id});
    INFO("where on " << n.name << ": " << where.dump());
    REQUIRE(where.is_object());
    if (owner_name.empty()) {
      owner_name = where.value("owner_node", "");
    }
    CHECK(where.value("owner_node", "") == owner_name);
    CHECK(where.value("alive", false));
    CHECK(where.value("self", false) == (n.name == owner_name));
  }
  size_t owner = nodes.size();
  size_t poster = nodes.size();
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].name == owner_name) {
      owner = i;
    } else if (poster == nodes.size()) {
      poster = i;
    }
  }
  REQUIRE(owner < nodes.size());
  REQUIRE(poster < nodes.size());

  // Posted on a node that does not own the guild: stored, acknowledged, readable everywhere.
  for (int i = 0; i < 5; ++i) {
    auto r = post(nodes[poster], token, channel, "routed " + std::to_string(i));
    INFO("post " << i << ": " << r.status << " " << r.body << " " << r.error);
    REQUIRE(r.status == 200);
    auto message = id_of(r.json());
    REQUIRE(!message.empty());
    for (const auto& n : nodes) {
      testing::rest_client rest{n.gateway, token};
      auto got = rest.get("/channels/" + channel + "/messages/" + message);
      INFO("GET on " << n.name);
      CHECK(got.status == 200);
      CHECK(got.json().value("content", "") == "routed " + std::to_string(i));
    }
  }
  CHECK(metric(nodes[poster], "herald_routed_publishes_total{where=\"remote\"}") >= 5);
  // The store agrees with the ring: every node shows the owner's claim (its node id, epoch 1,
  // never taken by another node) and the last committed order: the channel and the 5 posts.
  for (const auto& n : nodes) {
    auto where = ctl_json(n, {"where", "guild", guild_id});
    INFO("where on " << n.name << ": " << where.dump());
    CHECK(where.value("epoch", 0) == 1);
    CHECK(where.value("epoch_node_id", -1) == where.value("owner_id", -2));
    CHECK(where.value("order", 0) == 6);
  }
  {
    // The text form: the same three values as key=value lines, after the existing keys.
    auto text = testing::run_process(testing::bin_path("heraldctl"),
                                     {"--node", "127.0.0.1:" + std::to_string(nodes[poster].admin),
                                      "--data-dir", nodes[poster].data, "where", "guild", guild_id},
                                     10s);
    INFO(text.out << text.err);
    CHECK(text.exit_code == 0);
    const auto epoch_at = text.out.find("\nepoch=1\n");
    CHECK(epoch_at != std::string::npos);
    CHECK(text.out.find("ring_generation=") < epoch_at);
    CHECK(text.out.find("\norder=6\n") != std::string::npos);
  }
  CHECK(metric(nodes[owner], "herald_guild_claims_total") == 1);
  CHECK(metric(nodes[owner], "herald_guild_fenced_commits_total") <= 0);  // -1: never counted

  // The owner frozen: a publish gets 503 + Retry-After within the bound, not a hang.
  procs[owner]->send_signal(SIGSTOP);
  auto sent_at = std::chrono::steady_clock::now();
  auto busy = post(nodes[poster], token, channel, "while frozen");
  auto took = std::chrono::steady_clock::now() - sent_at;
  INFO("post while frozen: " << busy.status << " " << busy.body << " " << busy.error);
  CHECK(busy.status == 503);
  CHECK(!busy.header("retry-after").empty());
  CHECK(took < busy_bound);
  // `where` still names the owner, which does not answer.
  auto where = ctl_json(nodes[poster], {"where", "guild", guild_id});
  CHECK(where.value("owner_node", "") == owner_name);
  CHECK(where.value("reachable", true) == false);
  procs[owner]->send_signal(SIGCONT);

  // Running again: the next publish through the same route succeeds.
  CHECK(testing::eventually(
      [&] { return post(nodes[poster], token, channel, "after thaw").status == 200; }, 30s,
      testing::slow_poll_step));

  stop_cleanly(nodes, procs);
}

TEST_CASE("a_routed_publish_waiting_on_an_owner_declared_down_fails_at_once_with_503") {
  testing::temp_dir dir;
  auto cluster = start_static_cluster(dir, {{"na", 1}, {"nb", 2}, {"nc", 3}}, heartbeat,
                                      quick_failure_timeout);
  auto& nodes = cluster.nodes;
  auto& procs = cluster.procs;
  require_all_up(nodes);
  auto alice = create_user(nodes[0], "alice");
  auto token = alice.value("token", "");
  auto guild_id = created_id(nodes[0], {"guild", "create", "--name", "g", "--owner", id_of(alice)});
  auto channel =
      created_id(nodes[0], {"channel", "create", "--guild", guild_id, "--name", "general"});
  auto placed = place_guild(nodes, guild_id);
  const auto& poster = nodes[placed.others[0]];
  REQUIRE(post(poster, token, channel, "before").status == 200);  // the route is resolved
  CHECK(metric(poster, "herald_cluster_routed_failed_on_down_total") == 0);

  // Frozen right before the publish: it waits on the owner until membership declares the owner
  // down (1.5 s of silence), and is answered then, not when the 5 s request timeout runs out.
  procs[placed.owner]->send_signal(SIGSTOP);
  auto busy = post(poster, token, channel, "while frozen");
  INFO("post while frozen: " << busy.status << " " << busy.body << " " << busy.error);
  CHECK(busy.status == 503);
  CHECK(!busy.header("retry-after").empty());
  // The reason: the router failed it because the owner went down (the old code had no such
  // path and answered after request_timeout with a timeout).
  CHECK(metric(poster, "herald_cluster_routed_failed_on_down_total") >= 1);
  // The guild moved: the next publish is ordered by its new owner.
  CHECK(testing::eventually([&] { return post(poster, token, channel, "moved").status == 200; },
                            30s, testing::slow_poll_step));
  procs[placed.owner]->send_signal(SIGCONT);
  stop_cleanly(nodes, procs);
}
