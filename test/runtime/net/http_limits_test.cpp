// SPDX-License-Identifier: Apache-2.0
// Listener limits: server_options::max_connections and max_connections_per_ip refuse with
// 503 + Retry-After, count the refusal, show in health(), and free the place on close.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <thread>

#include "runtime/metrics/metrics.hpp"
#include "runtime/net/http_server.hpp"
#include "runtime/net/websocket.hpp"
#include "test/support/raw_http.hpp"

using namespace herald;
using namespace std::chrono_literals;

namespace {

struct idle_handler : net::ws_handler {
  void on_text(std::string_view) override {}
  void on_error(net::ws_error) override {}
  void on_closed(uint16_t, bool) override {}
};

std::unique_ptr<net::http_server> limited_server(const std::string& name, size_t max_total,
                                                 size_t max_per_ip) {
  net::server_options opts;
  opts.name = name;
  opts.max_connections = max_total;
  opts.max_connections_per_ip = max_per_ip;
  auto s = std::make_unique<net::http_server>(opts);
  s->route("GET", "/hello", [](const net::http_request&) {
    return net::http_response{200, "text/plain", "hello", {}};
  });
  s->on_websocket([](net::ws_connection_ptr c) { c->start(std::make_shared<idle_handler>()); });
  REQUIRE_FALSE(s->start());
  return s;
}

// A raw client connection, bound to `from` (any 127.0.0.0/8 address is loopback on Linux).
struct client : testing::raw_connection {
  explicit client(uint16_t port, const std::string& from = "127.0.0.1")
      : testing::raw_connection(port, testing::raw_options{from}) {}
  // One request on this connection; returns the response (head and body).
  std::string get(const std::string& target = "/hello") {
    write("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n");
    return read_response();
  }
  std::string upgrade() {
    write(testing::ws_upgrade_request);
    return read_head();
  }
};

double refused(const std::string& server, const std::string& reason) {
  return metrics::registry::global().value_of("herald_net_connections_refused_total",
                                              {{"server", server}, {"reason", reason}});
}

double open_connections(const std::string& server) {
  return metrics::registry::global().value_of("herald_net_connections", {{"server", server}});
}

bool eventually(const std::function<bool()>& cond) {
  for (int i = 0; i < 400; ++i) {
    if (cond()) {
      return true;
    }
    std::this_thread::sleep_for(25ms);
  }
  return cond();
}

}  // namespace

TEST_CASE("a_connection_beyond_max_connections_gets_503_with_retry_after") {
  auto s = limited_server("t_limit_total", 2, 0);
  client a{s->port()};
  client b{s->port()};
  CHECK(a.get().rfind("HTTP/1.1 200", 0) == 0);
  CHECK(b.upgrade().rfind("HTTP/1.1 101", 0) == 0);  // an upgraded connection keeps its place
  REQUIRE(eventually([&] { return open_connections("t_limit_total") == 2; }));
  CHECK(s->health().at_max_connections);
  CHECK(s->health().open_connections == 2);

  client c{s->port()};
  auto refusal = c.get();
  CHECK(refusal.rfind("HTTP/1.1 503", 0) == 0);
  CHECK(refusal.find("Retry-After: 5") != std::string::npos);
  CHECK(refusal.find("Connection: close") != std::string::npos);
  CHECK(refused("t_limit_total", "max_connections") == 1);

  // Closing the WebSocket frees its place.
  b.socket().close();
  REQUIRE(eventually([&] { return !s->health().at_max_connections; }));
  client d{s->port()};
  CHECK(d.get().rfind("HTTP/1.1 200", 0) == 0);
  CHECK(s->health().accept_failing.empty());
}

TEST_CASE("connections_per_ip_are_limited_per_address") {
  auto s = limited_server("t_limit_ip", 0, 2);
  client a{s->port()};
  client b{s->port()};
  CHECK(a.get().rfind("HTTP/1.1 200", 0) == 0);
  CHECK(b.get().rfind("HTTP/1.1 200", 0) == 0);
  client c{s->port()};
  auto refusal = c.get();
  CHECK(refusal.rfind("HTTP/1.1 503", 0) == 0);
  CHECK(refusal.find("max_connections_per_ip") != std::string::npos);
  CHECK(refused("t_limit_ip", "max_connections_per_ip") == 1);
  // Another address has its own count.
  client other{s->port(), "127.0.0.2"};
  CHECK(other.get().rfind("HTTP/1.1 200", 0) == 0);
  CHECK_FALSE(s->health().at_max_connections);  // no total limit
  a.socket().close();
  REQUIRE(eventually([&] { return open_connections("t_limit_ip") == 2; }));
  client e{s->port()};
  CHECK(e.get().rfind("HTTP/1.1 200", 0) == 0);
}

TEST_CASE("without_limits_nothing_is_refused") {
  auto s = limited_server("t_limit_none", 0, 0);
  std::vector<std::unique_ptr<client>> clients;
  for (int i = 0; i < 20; ++i) {
    clients.push_back(std::make_unique<client>(s->port()));
    CHECK(clients.back()->get().rfind("HTTP/1.1 200", 0) == 0);
  }
  CHECK(refused("t_limit_none", "max_connections") == 0);
  CHECK(s->health().open_connections == 20);
  clients.clear();
  CHECK(eventually([&] { return s->health().open_connections == 0; }));
}
