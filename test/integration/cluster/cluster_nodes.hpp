// SPDX-License-Identifier: Apache-2.0
#pragma once
// Shared by the cluster integration tests: the loopback ports, config and heraldctl/metrics
// helpers of a cluster of real heraldd processes on one PostgreSQL database. Used from the test
// thread only; every call is bounded by its timeout.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <signal.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "runtime/net/http_client.hpp"
#include "test/support/admin_auth.hpp"
#include "test/support/cluster_ca.hpp"
#include "test/support/eventually.hpp"
#include "test/support/gateway_client.hpp"
#include "test/support/postgres_server.hpp"
#include "test/support/process.hpp"
#include "test/support/rest_client.hpp"
#include "test/support/temp_dir.hpp"

namespace herald::cluster_test {

using json = nlohmann::json;

struct node_spec {
  node_spec(std::string n, int id) : name(std::move(n)), node_id(id) {}
  std::string name;
  int node_id = 0;
  uint16_t admin = testing::free_port();
  uint16_t gateway = testing::free_port();
  uint16_t cluster = testing::free_port();
  std::string data;
  /// The address every port listens on and the test connects to: loopback, or the node's
  /// address inside its network namespace (chaos_network_test.cpp).
  std::string host = "127.0.0.1";
  /// Prepended to the heraldd command line, e.g. {"ip", "netns", "exec", "<ns>"}, which execs
  /// heraldd in that namespace (the child's pid is heraldd's: signals reach it).
  std::vector<std::string> exec_prefix;
};

inline std::string cluster_address(const node_spec& n) {
  return n.host + ":" + std::to_string(n.cluster);
}

/// A node's whole config: its ports and data dir, `[cluster]` with listen and node_id followed by
/// `cluster_lines` (membership, TLS, timeouts: what a test varies), the PostgreSQL store every
/// node shares and the cluster's token secret.
inline std::string node_config(const node_spec& n, const std::string& cluster_lines,
                               const std::string& pg_url, const std::string& secret_file) {
  return "[node]\nname = \"" + n.name + "\"\ndata_dir = \"" + n.data + "\"\n[admin]\nlisten = \"" +
         n.host + ":" + std::to_string(n.admin) + "\"\n[gateway]\nlisten = \"" + n.host + ":" +
         std::to_string(n.gateway) + "\"\n[cluster]\nlisten = \"" + cluster_address(n) +
         "\"\nnode_id = " + std::to_string(n.node_id) + "\n" + cluster_lines +
         "[store]\nbackend = \"postgres\"\npostgres_url = \"" + pg_url +
         "\"\n[identity]\nsecret_file = \"" + secret_file +
         "\"\n[runtime]\nscheduler_threads = 2\nshutdown_timeout_ms = 10000\n";
}

/// Static membership's `[cluster]` lines: the seeds and the heartbeat and failure timeout.
inline std::string static_membership_lines(const std::vector<std::string>& seeds,
                                           std::chrono::milliseconds heartbeat,
                                           std::chrono::milliseconds failure_timeout) {
  std::string seed_list;
  for (const auto& s : seeds) {
    seed_list += (seed_list.empty() ? "\"" : ", \"") + s + "\"";
  }
  return "seeds = [" + seed_list +
         "]\nheartbeat_interval_ms = " + std::to_string(heartbeat.count()) +
         "\nfailure_timeout_ms = " + std::to_string(failure_timeout.count()) + "\n";
}

/// etcd membership's `[cluster]` lines: one etcd endpoint, the key prefix and the lease TTL.
inline std::string etcd_membership_lines(const std::string& endpoint, const std::string& prefix,
                                         std::chrono::seconds lease_ttl) {
  return "membership = \"etcd\"\netcd_endpoints = [\"" + endpoint + "\"]\netcd_prefix = \"" +
         prefix + "\"\netcd_lease_ttl_s = " + std::to_string(lease_ttl.count()) + "\n";
}

/// The mutual-TLS `[cluster]` lines of a node with `tls`'s files.
inline std::string tls_lines(const testing::cluster_tls_files& tls) {
  return "tls_ca_file = \"" + tls.ca_file + "\"\ntls_cert_file = \"" + tls.cert_file +
         "\"\ntls_key_file = \"" + tls.key_file + "\"\n";
}

/// A plaintext static-membership node (cluster.allow_plaintext: these tests are on loopback).
inline std::string config_text(const node_spec& n, const std::vector<std::string>& seeds,
                               const std::string& pg_url, const std::string& secret_file,
                               std::chrono::milliseconds heartbeat,
                               std::chrono::milliseconds failure_timeout) {
  return node_config(
      n, static_membership_lines(seeds, heartbeat, failure_timeout) + "allow_plaintext = true\n",
      pg_url, secret_file);
}

/// `heraldctl --node <admin> --data-dir <data> <args> --json`, parsed; discarded on failure.
inline json ctl_json(const node_spec& n, std::vector<std::string> args) {
  std::vector<std::string> argv{"--node", n.host + ":" + std::to_string(n.admin), "--data-dir",
                                n.data};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--json");
  auto r = testing::run_process(testing::bin_path("heraldctl"), argv, std::chrono::seconds{10});
  if (r.exit_code != 0) {
    return json(json::value_t::discarded);
  }
  return json::parse(r.out, nullptr, false);
}

/// The "id" of a heraldctl JSON answer, "" when it has none.
inline std::string id_of(const json& j) {
  return j.is_object() ? j.value("id", "") : "";
}

/// The id of what `heraldctl <args> --json` on `n` created (a guild, a channel); REQUIREs one.
inline std::string created_id(const node_spec& n, std::vector<std::string> args) {
  auto id = id_of(ctl_json(n, std::move(args)));
  REQUIRE(!id.empty());
  return id;
}

/// `heraldctl user create --name <name>` on `n`: the user, its "token" included; REQUIREs an id.
inline json create_user(const node_spec& n, const std::string& name) {
  auto u = ctl_json(n, {"user", "create", "--name", name});
  REQUIRE(!id_of(u).empty());
  return u;
}

/// A guild made through heraldctl on one node: the first user owns it, the others are members,
/// and it has one text channel, "general".
struct member_guild {
  std::vector<json> users;  ///< as create_user returns them, in the order asked
  std::string guild_id;
  std::string channel;
  std::string token(size_t user) const { return users.at(user).value("token", ""); }
};

/// Creates users `names` on `n`, a guild "g" owned by the first, its "general" channel, and adds
/// the others as members. REQUIREs every step.
inline member_guild make_member_guild(const node_spec& n, const std::vector<std::string>& names) {
  member_guild g;
  for (const auto& name : names) {
    g.users.push_back(create_user(n, name));
  }
  g.guild_id = created_id(n, {"guild", "create", "--name", "g", "--owner", id_of(g.users.at(0))});
  g.channel = created_id(n, {"channel", "create", "--guild", g.guild_id, "--name", "general"});
  for (size_t i = 1; i < g.users.size(); ++i) {
    REQUIRE(ctl_json(n, {"member", "add", "--guild", g.guild_id, "--user", id_of(g.users[i])})
                .is_object());
  }
  return g;
}

/// Members with status "up" in a `nodes --json` array (0 for anything else).
inline int up_count(const json& nodes) {
  int n = 0;
  if (nodes.is_array()) {
    for (const auto& row : nodes) {
      n += row.value("status", "") == "up" ? 1 : 0;
    }
  }
  return n;
}

/// `heraldctl nodes --json` on `n`: the array of its view's members; discarded on failure.
inline json nodes_json(const node_spec& n) {
  return ctl_json(n, {"nodes"});
}

/// A field of member `id` in a `nodes --json` array (`fallback` when the member is absent).
template <typename T>
T member_field(const json& nodes, int id, const char* field, T fallback) {
  if (nodes.is_array()) {
    for (const auto& n : nodes) {
      if (n.value("id", -1) == id) {
        return n.value(field, fallback);
      }
    }
  }
  return fallback;
}

inline std::string status_of(const json& nodes, int id) {
  return member_field<std::string>(nodes, id, "status", "");
}

inline uint64_t incarnation_of(const json& nodes, int id) {
  return member_field<uint64_t>(nodes, id, "incarnation", 0);
}

/// /readyz answers 200: the node serves (and, clustered, has joined).
inline bool ready(const node_spec& n) {
  auto r = net::http_fetch(n.host, n.admin, "GET", "/readyz", {}, std::chrono::seconds{2});
  return r.ok() && r.status == 200;
}

/// /healthz answers 200: the process is alive and its admin API answers.
inline bool live(const node_spec& n) {
  auto r = net::http_fetch(n.host, n.admin, "GET", "/healthz", {}, std::chrono::seconds{2});
  return r.ok() && r.status == 200;
}

/// The value of the series `name` (with its labels, e.g. `x_total{where="remote"}`) on the
/// node's /metrics, or -1 when absent.
inline double metric(const node_spec& n, const std::string& name) {
  auto r = net::http_fetch(n.host, n.admin, "GET", "/metrics", {}, std::chrono::seconds{5});
  auto pos = r.body.find("\n" + name + " ");
  if (pos == std::string::npos) {
    return -1;
  }
  return std::stod(r.body.substr(pos + name.size() + 2));
}

/// Where a guild runs in a 3-node cluster: its owner (`heraldctl where` asked of nodes[0]) and
/// the two other nodes, as indexes into `nodes`. REQUIREs an owner among them.
struct guild_placement {
  size_t owner = 0;
  std::vector<size_t> others;
};

inline guild_placement place_guild(const std::vector<node_spec>& nodes,
                                   const std::string& guild_id) {
  auto where = ctl_json(nodes[0], {"where", "guild", guild_id});
  auto owner_name = where.is_object() ? where.value("owner_node", "") : std::string{};
  guild_placement out;
  out.owner = nodes.size();
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].name == owner_name) {
      out.owner = i;
    } else {
      out.others.push_back(i);
    }
  }
  REQUIRE(out.owner < nodes.size());
  return out;
}

/// POST /api/v10/channels/{channel}/messages on `n`'s REST API as the token's user; REQUIREs
/// 200 and returns the message object.
inline json post_message(const node_spec& n, const std::string& token, const std::string& channel,
                         const std::string& content) {
  auto r =
      testing::http_call_at(n.host, n.gateway, "POST", "/api/v10/channels/" + channel + "/messages",
                            json{{"content", content}}.dump(), {{"Authorization", "Bot " + token}},
                            std::chrono::seconds{20});
  INFO("post " << content << " on " << n.name << ": " << r.status << " " << r.body << " "
               << r.error);
  REQUIRE(r.status == 200);
  return r.json();
}

/// The channel's whole history through `n`'s REST API as the token's user, oldest first (pages
/// of 100, newest first, followed with `before`; at most 1000 pages). REQUIREs every page.
inline std::vector<std::string> channel_history(const node_spec& n, const std::string& token,
                                                const std::string& channel) {
  std::vector<std::string> newest_first;
  std::string before;
  for (int page = 0; page < 1000; ++page) {
    auto r =
        testing::http_call_at(n.host, n.gateway, "GET",
                              "/api/v10/channels/" + channel + "/messages?limit=100" +
                                  (before.empty() ? "" : "&before=" + before),
                              {}, {{"Authorization", "Bot " + token}}, std::chrono::seconds{20});
    REQUIRE(r.status == 200);
    auto messages = r.json();
    REQUIRE(messages.is_array());
    if (messages.empty()) {
      break;
    }
    for (const auto& m : messages) {
      newest_first.push_back(m.value("content", ""));
      before = m.value("id", "");
    }
  }
  return {newest_first.rbegin(), newest_first.rend()};
}

/// Whether `part`'s elements all occur in `whole`, in `whole`'s order, each matched once: `part`
/// is `whole` with some elements left out.
inline bool in_order_within(const std::vector<std::string>& part,
                            const std::vector<std::string>& whole) {
  size_t at = 0;
  for (const auto& x : part) {
    while (at < whole.size() && whole[at] != x) {
      ++at;
    }
    if (at == whole.size()) {
      return false;
    }
    ++at;
  }
  return true;
}

/// Reads frames until the MESSAGE_CREATE with content `last`; returns the contents of every
/// MESSAGE_CREATE read, in order (the last one included). Bounded: 20 s per frame.
inline std::vector<std::string> messages_until(testing::gateway_client& c,
                                               const std::string& last) {
  std::vector<std::string> seen;
  for (int frames = 0; frames < 1000; ++frames) {
    auto f = c.next(std::chrono::seconds{20});
    if (!f) {
      break;
    }
    if ((*f)["op"] == 0 && (*f)["t"] == "MESSAGE_CREATE") {
      seen.push_back((*f)["d"].value("content", ""));
      if (seen.back() == last) {
        break;
      }
    }
  }
  return seen;
}

/// DELETE /api/v10/guilds/{guild}/members/{user} (a kick) on `n` as the token's user.
inline testing::http_answer kick_member(const node_spec& n, const std::string& token,
                                        const std::string& guild, const std::string& user) {
  return testing::http_call_at(n.host, n.gateway, "DELETE",
                               "/api/v10/guilds/" + guild + "/members/" + user, {},
                               {{"Authorization", "Bot " + token}}, std::chrono::seconds{20});
}

/// Connects to the loopback `port`, sends an HTTP request and junk (no cluster handshake) and
/// closes: what a probe or a confused client does to the cluster port.
inline void send_garbage(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    std::string junk = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n" + std::string(64, '#');
    (void)::send(fd, junk.data(), junk.size(), MSG_NOSIGNAL);
  }
  ::close(fd);
}

using process_list = std::vector<std::unique_ptr<testing::child_process>>;

/// Every node's stderr so far, one block per node: the message of a failing check that the
/// nodes' own account explains best.
inline std::string node_logs(const std::vector<node_spec>& nodes, const process_list& procs) {
  std::string out;
  for (size_t i = 0; i < nodes.size() && i < procs.size(); ++i) {
    out += "--- node " + nodes[i].name + " stderr:\n" + procs[i]->err() + "\n";
  }
  return out;
}

/// Waits (REQUIRE, 60 s each) until every node answers /readyz; a node that exits first fails
/// the test with its stderr.
inline void require_ready(const std::vector<node_spec>& nodes, const process_list& procs) {
  for (size_t i = 0; i < nodes.size(); ++i) {
    INFO("node " << nodes[i].name << " stderr: " << procs[i]->err());
    REQUIRE(testing::eventually([&] { return ready(nodes[i]) || !procs[i]->running(); },
                                std::chrono::seconds{60}, testing::slow_poll_step));
    REQUIRE(procs[i]->running());
  }
}

/// Waits (REQUIRE, 30 s each) until every node lists all of `nodes` up (`heraldctl nodes`).
inline void require_all_up(const std::vector<node_spec>& nodes) {
  for (const auto& n : nodes) {
    INFO("nodes --json on " << n.name);
    REQUIRE(testing::eventually(
        [&] { return up_count(ctl_json(n, {"nodes"})) == static_cast<int>(nodes.size()); },
        std::chrono::seconds{30}, testing::slow_poll_step));
  }
}

/// SIGTERM to every node, then each must exit 0 within 60 s (a clean shutdown is part of every
/// cluster test).
inline void stop_cleanly(const std::vector<node_spec>& nodes, process_list& procs) {
  for (auto& p : procs) {
    p->send_signal(SIGTERM);
  }
  for (size_t i = 0; i < procs.size(); ++i) {
    INFO("node " << nodes[i].name << " stderr: " << procs[i]->err());
    auto exit = procs[i]->wait_for(std::chrono::seconds{60});
    REQUIRE(exit);
    CHECK(*exit == 0);
  }
}

/// A running cluster: all its nodes share one fresh database of the shared test PostgreSQL and
/// one token secret.
struct running_cluster {
  std::vector<node_spec> nodes;
  std::vector<std::string> seeds;  // every node's cluster address, in `nodes` order
  std::string pg_url;
  std::string secret;                // the secret file's path
  std::vector<std::string> configs;  // configs[i] is nodes[i]'s config file
  process_list procs;                // procs[i] runs nodes[i]
};
using static_cluster = running_cluster;

/// Starts heraldd for nodes[i] again with its config (after it exited or was killed); does not
/// wait for it.
inline void restart_node(running_cluster& c, size_t i) {
  const auto& prefix = c.nodes[i].exec_prefix;
  std::vector<std::string> argv{testing::bin_path("heraldd"), "--config", c.configs[i]};
  if (prefix.empty()) {
    c.procs[i] = std::make_unique<testing::child_process>(
        argv.front(), std::vector<std::string>{argv.begin() + 1, argv.end()});
    return;
  }
  argv.insert(argv.begin(), prefix.begin() + 1, prefix.end());
  c.procs[i] = std::make_unique<testing::child_process>(prefix.front(), argv);
}

/// Starts `nodes` (data dirs and configs under `dir`), each with `cluster_lines(node)` as the
/// rest of its `[cluster]` table (membership, TLS) and `extra_config` appended (e.g. a
/// `[features]` table), and waits until every one is ready (require_ready). The database is a
/// fresh one of the shared test PostgreSQL unless `pg_url` names one.
inline running_cluster start_cluster(
    testing::temp_dir& dir, std::vector<node_spec> nodes,
    const std::function<std::string(const running_cluster&, const node_spec&)>& cluster_lines,
    const std::string& extra_config = "", const std::string& pg_url = "") {
  running_cluster c;
  if (pg_url.empty()) {
    auto& pg = testing::shared_postgres_server();
    c.pg_url = pg.url(pg.create_database());
  } else {
    c.pg_url = pg_url;
  }
  c.secret = dir.write_file("cluster.secret", "a-cluster-secret-of-32-characters\n");
  c.nodes = std::move(nodes);
  for (auto& n : c.nodes) {
    n.data = dir.file("data-" + n.name);
    c.seeds.push_back(cluster_address(n));
  }
  for (size_t i = 0; i < c.nodes.size(); ++i) {
    const auto& n = c.nodes[i];
    c.configs.push_back(dir.write_file(
        n.name + ".toml", node_config(n, cluster_lines(c, n), c.pg_url, c.secret) + extra_config));
    c.procs.push_back(nullptr);
    restart_node(c, i);
  }
  require_ready(c.nodes, c.procs);
  return c;
}

/// A plaintext static-membership cluster: every node seeds every other.
inline static_cluster start_static_cluster(testing::temp_dir& dir, std::vector<node_spec> nodes,
                                           std::chrono::milliseconds heartbeat,
                                           std::chrono::milliseconds failure_timeout,
                                           const std::string& extra_config = "",
                                           const std::string& pg_url = "") {
  return start_cluster(
      dir, std::move(nodes),
      [&](const running_cluster& c, const node_spec&) {
        return static_membership_lines(c.seeds, heartbeat, failure_timeout) +
               "allow_plaintext = true\n";
      },
      extra_config, pg_url);
}

/// start_static_cluster with `cluster.drain_window_ms` and `cluster.drain_detached_wait_ms` set:
/// for the drain tests.
inline static_cluster start_draining_cluster(
    testing::temp_dir& dir, std::vector<node_spec> nodes, std::chrono::milliseconds heartbeat,
    std::chrono::milliseconds failure_timeout, std::chrono::milliseconds drain_window,
    std::chrono::milliseconds detached_wait = std::chrono::milliseconds{3000}) {
  return start_cluster(dir, std::move(nodes), [&](const running_cluster& c, const node_spec&) {
    return static_membership_lines(c.seeds, heartbeat, failure_timeout) +
           "allow_plaintext = true\ndrain_window_ms = " + std::to_string(drain_window.count()) +
           "\ndrain_detached_wait_ms = " + std::to_string(detached_wait.count()) + "\n";
  });
}

/// The node's GET /v1/drain answer (an empty object when it does not answer).
inline nlohmann::json drain_status(const node_spec& n) {
  auto r = testing::http_call(n.admin, "GET", "/v1/drain", {},
                              testing::admin_auth(testing::read_admin_token(n.data)));
  return r.status == 200 ? r.json() : nlohmann::json::object();
}

}  // namespace herald::cluster_test
