// SPDX-License-Identifier: Apache-2.0
// Starts the real heraldd and heraldctl binaries (from HERALD_BIN_DIR) on free loopback ports.
#include <catch2/catch.hpp>

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include "runtime/net/http_client.hpp"
#include "runtime/node/status.hpp"
#include "test/support/eventually.hpp"
#include "test/support/process.hpp"

using namespace herald;
using namespace std::chrono_literals;

namespace {

struct node_ports {
  uint16_t admin = testing::free_port();
  uint16_t gateway = testing::free_port();
  uint16_t cluster = testing::free_port();
};

std::string node_config(const std::string& name, const node_ports& p, const std::string& data) {
  return "[node]\nname = \"" + name + "\"\ndata_dir = \"" + data +
         "\"\n[admin]\nlisten = \"127.0.0.1:" + std::to_string(p.admin) +
         "\"\n[gateway]\nlisten = \"127.0.0.1:" + std::to_string(p.gateway) +
         "\"\n[cluster]\nlisten = \"127.0.0.1:" + std::to_string(p.cluster) +
         "\"\n[runtime]\nscheduler_threads = 2\nshutdown_timeout_ms = 10000\n"
         "[log]\nformat = \"json\"\n";
}

net::client_response admin_get(uint16_t port, const std::string& target) {
  return net::http_fetch("127.0.0.1", port, "GET", target, {}, 5s);
}

bool healthy(uint16_t port) {
  auto r = admin_get(port, "/healthz");
  return r.ok() && r.status == 200;
}

size_t line_count(const std::string& s) {
  return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
}

}  // namespace

TEST_CASE("heraldd_serves_health_metrics_and_status_and_exits_0_on_sigterm") {
  testing::temp_dir dir;
  node_ports ports;
  auto data = dir.file("data");
  auto cfg = dir.write_file("node.toml", node_config("itest-1", ports, data));
  testing::child_process heraldd{testing::bin_path("heraldd"), {"--config", cfg}};
  REQUIRE(testing::eventually([&] { return healthy(ports.admin) || !heraldd.running(); }, 30s,
                              testing::slow_poll_step));
  INFO("heraldd stderr: " << heraldd.err());
  REQUIRE(heraldd.running());
  CHECK(std::filesystem::is_directory(data));

  auto ready = admin_get(ports.admin, "/readyz");
  CHECK(ready.status == 200);

  auto metrics = admin_get(ports.admin, "/metrics");
  REQUIRE(metrics.status == 200);
  CHECK(metrics.content_type.find("text/plain; version=0.0.4") == 0);
  for (const char* family :
       {"# TYPE process_resident_memory_bytes gauge", "# TYPE process_cpu_seconds_total counter",
        "# TYPE process_open_fds", "# TYPE process_start_time_seconds", "herald_uptime_seconds ",
        "herald_build_info{version=\"" HERALD_VERSION "\"} 1", "# TYPE herald_actors_alive gauge",
        "herald_supervisor_restarts_total{", "herald_supervisor_children{supervisor=\"root\"} 2",
        "herald_http_requests_total{server=\"admin\",code=\"200\"}",
        "herald_messages_handled_total{kind=\"supervisor\"}",
        "# TYPE herald_mailbox_depth gauge"}) {
    INFO("family: " << family);
    CHECK(metrics.body.find(family) != std::string::npos);
  }

  auto ctl = testing::run_process(testing::bin_path("heraldctl"),
                                  {"status", "--json", "--node",
                                   "127.0.0.1:" + std::to_string(ports.admin), "--data-dir", data});
  INFO("heraldctl stderr: " << ctl.err);
  REQUIRE(ctl.exit_code == 0);
  std::string parse_error;
  auto status = node::status_from_json(ctl.out, &parse_error);
  INFO("parse error: " << parse_error);
  REQUIRE(status);
  CHECK(status->node == "itest-1");
  CHECK(status->version == HERALD_VERSION);
  CHECK(status->uptime_s >= 0);
  CHECK(status->actors_by_kind.count("supervisor") == 1);
  std::vector<std::string> tree;
  for (const auto& s : status->supervisors) {
    tree.push_back(s.name + "<" + s.parent + ":" + s.strategy);
  }
  // The node's tree; the dispatch core's partition supervisors (guilds, relays, sessions)
  // are roots of their own beside it.
  for (const char* expected :
       {"root<:rest_for_one", "system_sup<root:one_for_one", "service_sup<root:one_for_one"}) {
    INFO("supervisor: " << expected);
    CHECK(std::count(tree.begin(), tree.end(), expected) == 1);
  }

  auto text = testing::run_process(testing::bin_path("heraldctl"),
                                   {"--node", "127.0.0.1:" + std::to_string(ports.admin),
                                    "--token-file", data + "/admin.token", "status"});
  CHECK(text.exit_code == 0);
  CHECK(text.out.find("node:     itest-1") != std::string::npos);
  CHECK(text.out.find("system_sup") != std::string::npos);

  heraldd.send_signal(SIGTERM);
  auto code = heraldd.wait_for(60s);
  INFO("heraldd stderr: " << heraldd.err());
  REQUIRE(code);
  CHECK(*code == 0);
  CHECK(heraldd.err().find("shutting down") != std::string::npos);
  CHECK_FALSE(healthy(ports.admin));

  // log.format = "json": every stderr line is one JSON object with ts, level, logger, msg.
  std::istringstream lines{heraldd.err()};
  std::string line;
  size_t count = 0;
  while (std::getline(lines, line) && count < 10000) {
    ++count;
    INFO("log line: " << line);
    auto j = nlohmann::json::parse(line, nullptr, false);
    REQUIRE_FALSE(j.is_discarded());
    CHECK(j.contains("ts"));
    CHECK(j.contains("level"));
    CHECK(j.contains("logger"));
    CHECK(j.contains("msg"));
  }
  CHECK(count >= 3);
}

TEST_CASE("flags_override_the_file_and_sigint_also_exits_0") {
  testing::temp_dir dir;
  node_ports ports;
  uint16_t flag_port = testing::free_port();
  auto cfg = dir.write_file("node.toml", node_config("itest-2", ports, dir.file("data")));
  testing::child_process heraldd{testing::bin_path("heraldd"),
                                 {"--config", cfg, "--admin.listen",
                                  "127.0.0.1:" + std::to_string(flag_port), "--log.level=debug"}};
  REQUIRE(testing::eventually([&] { return healthy(flag_port) || !heraldd.running(); }, 30s,
                              testing::slow_poll_step));
  INFO("heraldd stderr: " << heraldd.err());
  REQUIRE(heraldd.running());
  CHECK_FALSE(healthy(ports.admin));
  heraldd.send_signal(SIGINT);
  auto code = heraldd.wait_for(60s);
  REQUIRE(code);
  CHECK(*code == 0);
}

TEST_CASE("a_bad_config_value_exits_2_with_one_line_naming_the_key") {
  testing::temp_dir dir;
  auto cfg = dir.write_file("bad.toml", "[node]\nname = \"x\"\n[admin]\nlisten = \"abc\"\n");
  auto r = testing::run_process(testing::bin_path("heraldd"), {"--config", cfg});
  CHECK(r.exit_code == 2);
  CHECK(r.err == "heraldd: config error: admin.listen: expected HOST:PORT, got \"abc\"\n");
  CHECK(r.out.empty());
}

TEST_CASE("an_unknown_key_or_bad_toml_exits_2_with_one_line") {
  testing::temp_dir dir;
  auto unknown = dir.write_file("unknown.toml", "[admin]\nlisten_port = 9100\n");
  auto r = testing::run_process(testing::bin_path("heraldd"), {"--config", unknown});
  CHECK(r.exit_code == 2);
  CHECK(r.err == "heraldd: config error: admin.listen_port: unknown key\n");

  auto broken = dir.write_file("broken.toml", "[node]\nname = \"x\n");
  auto b = testing::run_process(testing::bin_path("heraldd"), {"--config", broken});
  CHECK(b.exit_code == 2);
  CHECK(line_count(b.err) == 1);
  CHECK(b.err.find("heraldd: config error: " + broken + ":2:") == 0);

  auto flag =
      testing::run_process(testing::bin_path("heraldd"), {"--runtime.shutdown_timeout_ms", "soon"});
  CHECK(flag.exit_code == 2);
  CHECK(flag.err ==
        "heraldd: config error: runtime.shutdown_timeout_ms: expected integer, got \"soon\"\n");
}

TEST_CASE("a_taken_admin_port_exits_1_naming_admin_listen") {
  testing::temp_dir dir;
  node_ports ports;
  auto first_cfg = dir.write_file("a.toml", node_config("itest-a", ports, dir.file("a")));
  testing::child_process first{testing::bin_path("heraldd"), {"--config", first_cfg}};
  REQUIRE(testing::eventually([&] { return healthy(ports.admin) || !first.running(); }, 30s,
                              testing::slow_poll_step));
  REQUIRE(first.running());
  auto second = testing::run_process(
      testing::bin_path("heraldd"),
      {"--config", first_cfg, "--node.name", "itest-b", "--node.data_dir", dir.file("b"),
       "--gateway.listen", "127.0.0.1:" + std::to_string(testing::free_port())});
  CHECK(second.exit_code == 1);
  CHECK(second.err.find("admin.listen: cannot listen on 127.0.0.1:" +
                        std::to_string(ports.admin)) != std::string::npos);
  first.send_signal(SIGTERM);
  CHECK(first.wait_for(60s) == 0);
}

TEST_CASE("heraldctl_against_a_closed_port_exits_1_with_one_line") {
  auto port = std::to_string(testing::free_port());
  auto r = testing::run_process(testing::bin_path("heraldctl"),
                                {"status", "--node", "127.0.0.1:" + port});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "heraldctl: cannot reach node at 127.0.0.1:" + port + ": connection refused\n");
  CHECK(r.out.empty());
}
