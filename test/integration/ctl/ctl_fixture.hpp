// SPDX-License-Identifier: Apache-2.0
#pragma once
// Test fixture for the ctl integration tests: one real heraldd on free ports with its data in
// a temp dir (restartable on the same data), heraldctl and REST helpers.
// Used from one test thread. Invariant: the node is stopped when the fixture goes away.

#include <signal.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "runtime/net/http_client.hpp"
#include "test/support/admin_auth.hpp"
#include "test/support/eventually.hpp"
#include "test/support/process.hpp"

namespace herald::ctl_test {

using namespace std::chrono_literals;
using json = nlohmann::json;

/// One heraldd on free ports with its data in a temp dir; restartable on the same data.
class node_fixture {
public:
  /// `admin_keys`: extra `key = value` lines of the [admin] table.
  explicit node_fixture(const std::string& admin_keys = {}) {
    config_ = dir_.write_file(
        "node.toml", "[node]\nname = \"ctl-itest\"\ndata_dir = \"" + dir_.file("data") +
                         "\"\n[admin]\nlisten = \"127.0.0.1:" + std::to_string(admin_) + "\"\n" +
                         admin_keys +
                         "\n[gateway]\nlisten = \"127.0.0.1:" + std::to_string(gateway_) +
                         "\"\n[store]\nsync = \"normal\"\n[runtime]\nscheduler_threads = 2\n");
    start();
  }

  void start() {
    node_ = std::make_unique<testing::child_process>(testing::bin_path("heraldd"),
                                                     std::vector<std::string>{"--config", config_});
    bool up = testing::eventually(
        [&] {
          auto r = net::http_fetch("127.0.0.1", admin_, "GET", "/readyz", {}, 2s);
          return (r.ok() && r.status == 200) || !node_->running();
        },
        30s, testing::slow_poll_step);
    INFO("heraldd stderr: " << node_->err());
    REQUIRE(up);
    REQUIRE(node_->running());
  }

  /// SIGTERM; returns the exit code.
  std::optional<int> stop() {
    node_->send_signal(SIGTERM);
    return node_->wait_for(20s);
  }

  /// heraldctl --node <admin> --token-file <data>/admin.token args...
  testing::run_result ctl(std::vector<std::string> args) const {
    args.insert(args.begin(),
                {"--node", "127.0.0.1:" + std::to_string(admin_), "--token-file", token_file()});
    return testing::run_process(testing::bin_path("heraldctl"), args, 30s);
  }

  /// heraldctl ... --json, which must succeed with one JSON object.
  json ctl_json(std::vector<std::string> args) const {
    args.push_back("--json");
    auto r = ctl(args);
    INFO("heraldctl " << args[0] << " stderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    auto parsed = json::parse(r.out, nullptr, false);
    REQUIRE(parsed.is_object());
    return parsed;
  }

  struct rest_answer {
    unsigned status = 0;
    std::string body;
    std::string retry_after;
  };

  /// GET on the REST API with `Authorization: Bot <token>`.
  rest_answer rest_get(const std::string& target, const std::string& token) const {
    namespace beast = boost::beast;
    namespace http = beast::http;
    boost::asio::io_context io;
    beast::tcp_stream stream{io};
    stream.expires_after(5s);
    boost::asio::ip::tcp::endpoint ep{boost::asio::ip::make_address("127.0.0.1"), gateway_};
    stream.connect(ep);
    http::request<http::string_body> req{http::verb::get, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::authorization, "Bot " + token);
    http::write(stream, req);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(stream, buf, res);
    return {res.result_int(), res.body(), std::string{res[http::field::retry_after]}};
  }

  /// The node's data dir and the admin token heraldd generated there.
  std::string data_dir() const { return dir_.path().string() + "/data"; }
  std::string token_file() const { return data_dir() + "/admin.token"; }
  std::string admin_token() const { return testing::read_admin_token(data_dir()); }
  std::string config_file() const { return config_; }

  std::string admin_url() const { return "127.0.0.1:" + std::to_string(admin_); }
  uint16_t admin_port() const { return admin_; }
  uint16_t gateway_port() const { return gateway_; }
  testing::child_process& process() { return *node_; }

private:
  testing::temp_dir dir_;
  uint16_t admin_ = testing::free_port();
  uint16_t gateway_ = testing::free_port();
  std::string config_;
  std::unique_ptr<testing::child_process> node_;
};

inline std::string id_of(const json& j, const char* key = "id") {
  REQUIRE(j.contains(key));
  REQUIRE(j[key].is_string());
  auto id = j[key].get<std::string>();
  REQUIRE_FALSE(id.empty());
  return id;
}

inline bool lists_guild(const std::string& guilds_json, const std::string& guild_id) {
  auto list = json::parse(guilds_json, nullptr, false);
  if (!list.is_array()) {
    return false;
  }
  for (const auto& g : list) {
    if (g.value("id", "") == guild_id) {
      return true;
    }
  }
  return false;
}

}  // namespace herald::ctl_test
