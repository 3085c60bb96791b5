// SPDX-License-Identifier: Apache-2.0
// heraldd at its file descriptor limit (issue #10, item 1): a child heraldd with a low
// RLIMIT_NOFILE gets more clients than it has descriptors for. It must refuse them clearly,
// keep /healthz answering, say why in /readyz, not spin nor flood its log, and serve again
// once the clients are gone.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "test/support/eventually.hpp"
#include "test/support/process.hpp"
#include "test/support/rest_client.hpp"

using namespace herald;
using namespace std::chrono_literals;

namespace {

constexpr uint64_t nofile = 256;  // heraldd's default gateway.max_connections: 256 - 128

// A raw loopback TCP client; the descriptor is closed on destruction.
struct raw_client {
  int fd = -1;
  explicit raw_client(uint16_t port) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  }
  ~raw_client() { ::close(fd); }
  raw_client(const raw_client&) = delete;
  raw_client& operator=(const raw_client&) = delete;

  // Sends one GET and returns what arrives until the server closes or 5 s pass.
  std::string get(const std::string& target) {
    std::string req = "GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n";
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) < 0) {
      return {};
    }
    std::string got;
    char buf[1024];
    while (got.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) {
        break;
      }
      got.append(buf, static_cast<size_t>(n));
    }
    return got;
  }
};

struct limited_node {
  testing::temp_dir dir;
  uint16_t admin = testing::free_port();
  uint16_t gateway = testing::free_port();
  std::unique_ptr<testing::child_process> process;

  explicit limited_node(const std::string& gateway_keys) {
    auto cfg = dir.write_file(
        "node.toml", "[node]\nname = \"fdlimit\"\ndata_dir = \"" + dir.path().string() +
                         "/data\"\n[admin]\nlisten = \"127.0.0.1:" + std::to_string(admin) +
                         "\"\n[gateway]\nlisten = \"127.0.0.1:" + std::to_string(gateway) + "\"\n" +
                         gateway_keys +
                         "\n[store]\nsync = \"normal\"\n[runtime]\nscheduler_threads = 2\n");
    process = std::make_unique<testing::child_process>(
        testing::bin_path("heraldd"), std::vector<std::string>{"--config", cfg}, nofile);
    bool up =
        testing::eventually([&] { return readyz().status == 200 || !process->running(); }, 30s);
    INFO("heraldd stderr: " << process->err());
    REQUIRE(up);
    REQUIRE(process->running());
  }
  testing::http_answer readyz() const {
    return testing::http_call(admin, "GET", "/readyz", {}, {}, 3s);
  }
  testing::http_answer healthz() const {
    return testing::http_call(admin, "GET", "/healthz", {}, {}, 3s);
  }
  // A sample of /metrics, or -1 if the admin API did not answer.
  double metric(const std::string& series) const {
    auto r = testing::http_call(admin, "GET", "/metrics", {}, {}, 3s);
    if (r.status != 200) {
      return -1;
    }
    auto at = r.body.find(series + " ");
    if (at == std::string::npos) {
      return 0;
    }
    return std::stod(r.body.substr(at + series.size() + 1));
  }
  size_t log_lines_with(const std::string& text) const {
    auto err = process->err();
    size_t n = 0;
    for (auto at = err.find(text); at != std::string::npos; at = err.find(text, at + 1)) {
      ++n;
    }
    return n;
  }
  bool rest_answers() const {
    return testing::http_call(gateway, "GET", "/api/v10/gateway", {}, {}, 3s).status == 200;
  }
};

}  // namespace

TEST_CASE("at_max_connections_the_node_refuses_with_503_and_stays_reachable") {
  limited_node node{""};
  CHECK(node.log_lines_with("gateway.max_connections=128") == 1);
  std::vector<std::unique_ptr<raw_client>> held;
  for (int i = 0; i < 128; ++i) {
    held.push_back(std::make_unique<raw_client>(node.gateway));
  }
  REQUIRE(testing::eventually(
      [&] { return node.metric("herald_net_connections{server=\"gateway\"}") == 128; }, 10s));
  // Every further client gets a clear refusal, not a hang.
  for (int i = 0; i < 60; ++i) {
    raw_client extra{node.gateway};
    auto got = extra.get("/api/v10/gateway");
    INFO("refusal " << i << ": " << got);
    REQUIRE(got.rfind("HTTP/1.1 503", 0) == 0);
    CHECK(got.find("Retry-After: 5") != std::string::npos);
  }
  CHECK(
      node.metric(
          "herald_net_connections_refused_total{server=\"gateway\",reason=\"max_connections\"}") ==
      60);
  CHECK(node.healthz().status == 200);
  auto ready = node.readyz();
  CHECK(ready.status == 503);
  CHECK(ready.body == "not ready: gateway at max_connections\n");
  CHECK(node.log_lines_with("accept failed") == 0);

  held.clear();
  CHECK(testing::eventually([&] { return node.rest_answers(); }, 10s));
  CHECK(testing::eventually([&] { return node.readyz().status == 200; }, 10s));
}

// Regression: out of descriptors, the acceptor re-armed at once, spinning a core and writing
// millions of "accept failed: Too many open files" lines; the admin port timed out.
TEST_CASE("out_of_descriptors_the_acceptor_backs_off_and_the_admin_api_answers") {
  // A limit above what the descriptors allow: accept itself fails with EMFILE.
  const auto started = std::chrono::steady_clock::now();
  limited_node node{"max_connections = 100000\n"};
  std::vector<std::unique_ptr<raw_client>> held;
  for (int i = 0; i < 300; ++i) {
    held.push_back(std::make_unique<raw_client>(node.gateway));
  }
  std::string emfile = "herald_net_accept_errors_total{server=\"gateway\",reason=\"emfile\"}";
  // The admin API still answers (on its spare descriptor if need be), and says why.
  REQUIRE(testing::eventually([&] { return node.metric(emfile) > 0; }, 10s));
  CHECK(testing::eventually([&] { return node.healthz().status == 200; }, 10s));
  CHECK(testing::eventually(
      [&] { return node.readyz().body == "not ready: gateway accept failing: EMFILE\n"; }, 10s));

  // Under continued pressure the failures stay at the backoff's pace (at most ten a second
  // once it reached 100 ms), where the old loop failed millions of times a second.
  double before = node.metric(emfile);
  REQUIRE(before > 0);
  const auto pressure_start = std::chrono::steady_clock::now();
  auto until = std::chrono::steady_clock::now() + 3s;
  std::vector<std::unique_ptr<raw_client>> pressure;
  while (std::chrono::steady_clock::now() < until && pressure.size() < 300) {
    pressure.push_back(std::make_unique<raw_client>(node.gateway));
    std::this_thread::sleep_for(10ms);
  }
  double after = -1;
  REQUIRE(testing::eventually(
      [&] {
        after = node.metric(emfile);
        return after >= 0;
      },
      10s));
  // Bounded by rates, not by wall time, so a loaded machine cannot fail it: each pressure
  // connection costs a few failed accepts at most, the old loop failed millions per second.
  const double pressure_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - pressure_start).count();
  INFO("failed accepts " << after - before << " over " << pressure_s << " s, " << pressure.size()
                         << " connections");
  CHECK((after - before) / pressure_s < 1000.0);
  // One log line per 10 s at most, with the count of those not logged.
  INFO("heraldd stderr: " << node.process->err());
  const double alive_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  CHECK(node.log_lines_with("gateway: accept failed") <= 2 + static_cast<size_t>(alive_s / 10));
  // Waiting clients were refused (closed after a 503 line), not left hanging.
  CHECK(node.metric("herald_net_connections_refused_total{server=\"gateway\",reason=\"out_of_"
                    "descriptors\"}") > 0);

  pressure.clear();
  held.clear();
  CHECK(testing::eventually([&] { return node.rest_answers(); }, 15s));
  CHECK(testing::eventually([&] { return node.readyz().status == 200; }, 15s));
  CHECK(node.process->running());
}
