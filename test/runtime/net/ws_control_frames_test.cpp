// SPDX-License-Identifier: Apache-2.0
// Hostile control frames on a raw socket: close frames with codes a peer may not send, and a
// ping flood from a client that never reads.
#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>
#include <string>

#include "runtime/metrics/metrics.hpp"
#include "runtime/net/http_server.hpp"
#include "runtime/net/websocket.hpp"
#include "test/support/raw_http.hpp"

using namespace herald;
using namespace std::chrono_literals;

namespace {

// Counts text messages and remembers the close; never sends anything itself.
struct quiet_handler : net::ws_handler {
  std::mutex m;
  std::condition_variable cv;
  int texts = 0;
  std::optional<std::pair<uint16_t, bool>> closed;

  void on_text(std::string_view) override {
    std::lock_guard<std::mutex> guard{m};
    ++texts;
    cv.notify_all();
  }
  void on_error(net::ws_error) override {}
  void on_closed(uint16_t code, bool by_peer) override {
    std::lock_guard<std::mutex> guard{m};
    closed = std::make_pair(code, by_peer);
    cv.notify_all();
  }
  template <class Pred>
  bool wait(Pred p, std::chrono::seconds timeout = 20s) {
    std::unique_lock<std::mutex> lock{m};
    return cv.wait_for(lock, timeout, p);
  }
};

struct quiet_server {
  std::unique_ptr<net::http_server> server;
  std::mutex m;
  std::condition_variable cv;
  std::shared_ptr<quiet_handler> handler;
  net::ws_connection_ptr conn;

  explicit quiet_server(const std::string& name) {
    net::server_options opts;
    opts.name = name;
    server = std::make_unique<net::http_server>(opts);
    server->on_websocket([this](net::ws_connection_ptr c) {
      auto h = std::make_shared<quiet_handler>();
      c->start(h);
      std::lock_guard<std::mutex> guard{m};
      handler = h;
      conn = c;
      cv.notify_all();
    });
    REQUIRE_FALSE(server->start());
  }
  std::pair<std::shared_ptr<quiet_handler>, net::ws_connection_ptr> accepted() {
    std::unique_lock<std::mutex> lock{m};
    REQUIRE(cv.wait_for(lock, 10s, [&] { return handler != nullptr; }));
    return {handler, conn};
  }
};

// A masked client frame (RFC 6455 section 5.3) with a payload under 126 bytes.
std::string client_frame(uint8_t opcode, const std::string& payload) {
  REQUIRE(payload.size() < 126);
  const uint8_t mask[4] = {0x11, 0x22, 0x33, 0x44};
  std::string f;
  f.push_back(static_cast<char>(0x80 | opcode));
  f.push_back(static_cast<char>(0x80 | payload.size()));
  f.append(reinterpret_cast<const char*>(mask), 4);
  for (size_t i = 0; i < payload.size(); ++i) {
    f.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
  }
  return f;
}

std::string close_payload(uint16_t code) {
  return std::string{static_cast<char>(code >> 8), static_cast<char>(code & 0xff)};
}

// An upgraded raw connection; `rcvbuf` > 0 shrinks the client's receive buffer first.
struct raw_ws : testing::raw_connection {
  explicit raw_ws(uint16_t port, int rcvbuf = 0)
      : testing::raw_connection(port, testing::raw_options{"127.0.0.1", rcvbuf}) {
    write(testing::ws_upgrade_request);
    REQUIRE(read_head().rfind("HTTP/1.1 101", 0) == 0);
  }
};

}  // namespace

TEST_CASE("a_close_frame_with_a_code_a_peer_may_not_send_is_answered_with_1002") {
  quiet_server s{"t_ws_bad_close_code"};
  uint16_t code = GENERATE(0, 5, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535);
  CAPTURE(code);
  double before = metrics::registry::global().value_of(
      "herald_ws_inbound_errors_total",
      {{"server", "t_ws_bad_close_code"}, {"kind", "bad_close_code"}});
  raw_ws c{s.server->port()};
  auto accepted = s.accepted();
  c.write(client_frame(0x8, close_payload(code)));
  std::string got = c.read_to_end();
  // One close frame: 1002 and a reason, never the peer's code echoed.
  REQUIRE(got.size() >= 4);
  CHECK(static_cast<uint8_t>(got[0]) == 0x88);
  CHECK(static_cast<uint8_t>(got[2]) == 0x03);
  CHECK(static_cast<uint8_t>(got[3]) == 0xea);
  CHECK(accepted.first->wait([&] { return accepted.first->closed.has_value(); }));
  CHECK(accepted.first->closed->first == 1002);
  CHECK(metrics::registry::global().value_of(
            "herald_ws_inbound_errors_total",
            {{"server", "t_ws_bad_close_code"}, {"kind", "bad_close_code"}}) == before + 1);
  std::lock_guard<std::mutex> guard{s.m};
  s.handler.reset();
  s.conn.reset();
}

TEST_CASE("a_close_frame_with_a_valid_code_is_echoed") {
  quiet_server s{"t_ws_good_close_code"};
  uint16_t code = GENERATE(1000, 1001, 1003, 1007, 1011, 1014, 3000, 4000, 4999);
  CAPTURE(code);
  raw_ws c{s.server->port()};
  auto accepted = s.accepted();
  c.write(client_frame(0x8, close_payload(code)));
  std::string got = c.read_to_end();
  REQUIRE(got.size() == 4);
  CHECK(static_cast<uint8_t>(got[0]) == 0x88);
  CHECK(((static_cast<uint8_t>(got[2]) << 8) | static_cast<uint8_t>(got[3])) == code);
  CHECK(accepted.first->wait([&] { return accepted.first->closed.has_value(); }));
  CHECK(accepted.first->closed->first == code);
  std::lock_guard<std::mutex> guard{s.m};
  s.handler.reset();
  s.conn.reset();
}

// Regression: every ping queued its own pong, so a client that sent pings and never read
// grew the server's memory without bound.
TEST_CASE("a_ping_flood_from_a_client_that_never_reads_keeps_one_pong_queued") {
  quiet_server s{"t_ws_ping_flood"};
  raw_ws c{s.server->port(), 4096};
  auto accepted = s.accepted();
  const std::string payload(125, 'p');
  const std::string ping = client_frame(0x9, payload);
  std::string burst;
  for (int i = 0; i < 500; ++i) {
    burst += ping;
  }
  // 40,000 pings: ~5 MB of pongs if each were queued, far past the kernel's buffers.
  for (int i = 0; i < 80; ++i) {
    c.write(burst);
  }
  c.write(client_frame(0x1, "done"));
  auto h = accepted.first;
  REQUIRE(h->wait([&] { return h->texts == 1; }));
  // Everything before "done" was read; at most one pong waits, plus nothing else.
  CHECK(accepted.second->queued_bytes() <= 2 + payload.size());
  CHECK(accepted.second->is_open());
  CHECK(metrics::registry::global().value_of("herald_ws_pongs_coalesced_total",
                                             {{"server", "t_ws_ping_flood"}}) > 10000);
  // Once the client reads, the pongs the kernel took, the queued one, the latest ping's
  // and the close frame arrive.
  accepted.second->close(1000);
  std::string got = c.read_to_end();
  REQUIRE(got.size() >= 4);
  CHECK(got.substr(got.size() - 4) == std::string("\x88\x02\x03\xe8", 4));
}
