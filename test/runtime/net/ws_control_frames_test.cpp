// SPDX-License-Identifier: Apache-2.0
// Hostile control frames on a raw socket: close frames with codes a peer may not send, and a
// ping flood from a client that never reads.
#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>

#include "runtime/metrics/metrics.hpp"
#include "runtime/net/http_server.hpp"
#include "runtime/net/websocket.hpp"
#include "test/support/raw_ws_client.hpp"

using namespace herald;
using herald::testing::client_frame;
using herald::testing::close_payload;
using herald::testing::raw_ws;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

// Counts text messages and control frames and remembers the close; never sends anything
// itself.
struct quiet_handler : net::ws_handler {
  std::mutex m;
  std::condition_variable cv;
  int texts = 0;
  int controls = 0;
  std::optional<std::pair<uint16_t, bool>> closed;

  void on_control_frame() override {
    std::lock_guard<std::mutex> guard{m};
    ++controls;
  }
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

  explicit quiet_server(const std::string& name, net::ws_options ws = {}) {
    net::server_options opts;
    opts.name = name;
    opts.websocket = ws;
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

TEST_CASE("a_close_reason_that_is_not_utf_8_is_answered_with_1007_and_counted") {
  quiet_server s{"t_ws_bad_close_reason"};
  // A lone continuation byte, an overlong '/', a UTF-16 surrogate, a code point past U+10FFFF,
  // a sequence cut short.
  std::string reason =
      GENERATE(std::string("\x80"), std::string("\xc0\xaf"), std::string("ok \xed\xa0\x80"),
               std::string("\xf4\x90\x80\x80"), std::string("cut \xe2\x82"));
  CAPTURE(reason);
  auto counted = [] {
    return metrics::registry::global().value_of(
        "herald_ws_inbound_errors_total",
        {{"server", "t_ws_bad_close_reason"}, {"kind", "bad_close_reason"}});
  };
  double before = counted();
  raw_ws c{s.server->port()};
  auto accepted = s.accepted();
  c.write(client_frame(0x8, close_payload(1000) + reason));
  std::string got = c.read_to_end();
  REQUIRE(got.size() >= 4);
  CHECK(static_cast<uint8_t>(got[0]) == 0x88);
  CHECK(((static_cast<uint8_t>(got[2]) << 8) | static_cast<uint8_t>(got[3])) == 1007);
  CHECK(accepted.first->wait([&] { return accepted.first->closed.has_value(); }));
  CHECK(accepted.first->closed->first == 1007);
  CHECK(counted() == before + 1);
  std::lock_guard<std::mutex> guard{s.m};
  s.handler.reset();
  s.conn.reset();
}

TEST_CASE("a_close_reason_in_utf_8_gets_its_code_echoed") {
  quiet_server s{"t_ws_good_close_reason"};
  raw_ws c{s.server->port()};
  auto accepted = s.accepted();
  c.write(client_frame(0x8, close_payload(4000) + "au revoir, \xc3\xa9t\xc3\xa9 \xf0\x9f\x91\x8b"));
  std::string got = c.read_to_end();
  REQUIRE(got.size() == 4);
  CHECK(((static_cast<uint8_t>(got[2]) << 8) | static_cast<uint8_t>(got[3])) == 4000);
}

TEST_CASE("the_handler_sees_every_ping_and_pong_before_a_ping_is_answered") {
  quiet_server s{"t_ws_control_seen"};
  raw_ws c{s.server->port()};
  auto accepted = s.accepted();
  c.write(client_frame(0x9, "a") + client_frame(0xA, "unsolicited") + client_frame(0x9, "b") +
          client_frame(0x1, "done"));
  auto h = accepted.first;
  REQUIRE(h->wait([&] { return h->texts == 1; }));
  std::lock_guard<std::mutex> guard{h->m};
  CHECK(h->controls == 3);
}

// The slow-consumer close (the gateway's 4000 on overflow): the backlog the peer has not
// been handed is dropped, the message in progress is finished, and the close frame follows.
TEST_CASE("close_dropping_unsent_finishes_the_message_in_progress_then_writes_the_close_frame") {
  net::ws_options o;
  o.max_queued_bytes = 64u << 20;
  o.close_timeout = 1s;  // the client never answers the close
  quiet_server s{"t_ws_close_dropping", o};
  raw_ws c{s.server->port(), 4096};  // reads nothing until the close is queued
  auto accepted = s.accepted();
  auto conn = accepted.second;
  const size_t size = 64u << 10;
  auto payload = std::make_shared<std::string>(size, 'x');
  std::vector<std::string_view> one{std::string_view{*payload}};
  std::vector<std::string_view> many(200, std::string_view{*payload});  // 12.8 MiB
  std::atomic<bool> first_done{false};
  std::atomic<bool> rest_done{false};
  std::atomic<size_t> queued_before{0};
  std::atomic<size_t> queued_after{0};
  std::promise<void> closed;
  // On the strand, as the gateway does it: the writer has filled the kernel's buffers and
  // waits for the peer, the first message (at least) is in progress.
  conn->post([&] {
    conn->send(one, net::ws_opcode::text, payload, [&] { first_done = true; });
    conn->send(many, net::ws_opcode::text, payload, [&] { rest_done = true; });
    conn->post([&] {
      queued_before = conn->queued_bytes();
      conn->close_dropping_unsent(4000, "slow consumer");
      queued_after = conn->queued_bytes();
      closed.set_value();
    });
  });
  REQUIRE(closed.get_future().wait_for(10s) == std::future_status::ready);
  CHECK(queued_before > 100 * size);
  // At most the rest of the message in progress and the close frame are left.
  CHECK(queued_after <= size + 4 + 2 + 13 + 4);
  std::string got = c.read_to_end();
  std::vector<testing::server_frame> frames;
  REQUIRE(testing::parse_server_frames(got, frames));  // no frame cut short
  REQUIRE(frames.size() >= 2);
  CHECK(frames.size() < 100);
  for (size_t i = 0; i + 1 < frames.size(); ++i) {
    CHECK(frames[i].opcode == 1);
    CHECK(frames[i].payload.size() == size);
  }
  CHECK(frames.back().opcode == 8);
  CHECK(frames.back().payload == close_payload(4000) + "slow consumer");
  CHECK(first_done);
  CHECK(rest_done);  // the dropped messages' on_written ran (their keepalive was released)
  CHECK(accepted.first->wait([&] { return accepted.first->closed.has_value(); }));
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
