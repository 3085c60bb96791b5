// SPDX-License-Identifier: Apache-2.0
#pragma once
// Shared by the cluster integration tests: the loopback ports, config and heraldctl/metrics
// helpers of a cluster of real heraldd processes on one PostgreSQL database. Used from the test
// thread only; every call is bounded by its timeout.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/net/http_client.hpp"
#include "test/support/process.hpp"

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
};

inline std::string cluster_address(const node_spec& n) {
  return "127.0.0.1:" + std::to_string(n.cluster);
}

inline std::string config_text(const node_spec& n, const std::vector<std::string>& seeds,
                               const std::string& pg_url, const std::string& secret_file,
                               std::chrono::milliseconds heartbeat,
                               std::chrono::milliseconds failure_timeout) {
  std::string seed_list;
  for (const auto& s : seeds) {
    seed_list += (seed_list.empty() ? "\"" : ", \"") + s + "\"";
  }
  return "[node]\nname = \"" + n.name + "\"\ndata_dir = \"" + n.data +
         "\"\n[admin]\nlisten = \"127.0.0.1:" + std::to_string(n.admin) +
         "\"\n[gateway]\nlisten = \"127.0.0.1:" + std::to_string(n.gateway) +
         "\"\n[cluster]\nlisten = \"" + cluster_address(n) +
         "\"\nnode_id = " + std::to_string(n.node_id) + "\nseeds = [" + seed_list +
         "]\nheartbeat_interval_ms = " + std::to_string(heartbeat.count()) +
         "\nfailure_timeout_ms = " + std::to_string(failure_timeout.count()) +
         "\nallow_plaintext = true\n[store]\nbackend = \"postgres\"\npostgres_url = \"" + pg_url +
         "\"\n[identity]\nsecret_file = \"" + secret_file +
         "\"\n[runtime]\nscheduler_threads = 2\nshutdown_timeout_ms = 10000\n";
}

/// `heraldctl --node <admin> --data-dir <data> <args> --json`, parsed; discarded on failure.
inline json ctl_json(const node_spec& n, std::vector<std::string> args) {
  std::vector<std::string> argv{"--node", "127.0.0.1:" + std::to_string(n.admin), "--data-dir",
                                n.data};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--json");
  auto r = testing::run_process(testing::bin_path("heraldctl"), argv, std::chrono::seconds{10});
  if (r.exit_code != 0) {
    return json(json::value_t::discarded);
  }
  return json::parse(r.out, nullptr, false);
}

inline bool healthy(const node_spec& n) {
  auto r = net::http_fetch("127.0.0.1", n.admin, "GET", "/readyz", {}, std::chrono::seconds{2});
  return r.ok() && r.status == 200;
}

/// The value of the series `name` (with its labels, e.g. `x_total{where="remote"}`) on the
/// node's /metrics, or -1 when absent.
inline double metric(const node_spec& n, const std::string& name) {
  auto r = net::http_fetch("127.0.0.1", n.admin, "GET", "/metrics", {}, std::chrono::seconds{5});
  auto pos = r.body.find("\n" + name + " ");
  if (pos == std::string::npos) {
    return -1;
  }
  return std::stod(r.body.substr(pos + name.size() + 2));
}

}  // namespace herald::cluster_test
