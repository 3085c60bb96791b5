// SPDX-License-Identifier: Apache-2.0
// WebSocket server tests against Boost.Beast's websocket::stream as an independent client.
#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "runtime/metrics/metrics.hpp"
#include "runtime/net/http_client.hpp"
#include "runtime/net/websocket.hpp"
#include "test/support/eventually.hpp"
#include "test/support/raw_http.hpp"

using namespace herald;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

// Records a connection's events; echoes text unless the message is a command:
// "close:<code>" closes with that code, "burst:<n>" queues n messages with n send() calls,
// "parts:<n>" queues n messages of 2 or 3 pieces each (one of them 70000 bytes long)
// with one send_parts() call.
struct recorder : net::ws_handler {
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::string> texts;
  std::vector<net::ws_error> errors;
  std::optional<std::pair<uint16_t, bool>> closed;
  int closed_calls = 0;
  std::weak_ptr<net::ws_connection> conn;

  void on_text(std::string_view msg) override {
    auto c = conn.lock();
    if (!c) {
      return;
    }
    if (msg.rfind("close:", 0) == 0) {
      c->close(static_cast<uint16_t>(std::stoi(std::string{msg.substr(6)})), "bye");
    } else if (msg.rfind("burst:", 0) == 0) {
      int n = std::stoi(std::string{msg.substr(6)});
      for (int i = 0; i < n; ++i) {
        c->send_text("m" + std::to_string(i));
      }
    } else if (msg.rfind("parts:", 0) == 0) {
      int n = std::stoi(std::string{msg.substr(6)});
      auto owned = std::make_shared<std::vector<std::string>>();
      std::vector<uint32_t> per_message;
      for (int i = 0; i < n; ++i) {
        owned->push_back("{\"s\":" + std::to_string(i));
        owned->push_back(i == 1 ? std::string(70000, 'x') : std::string(",\"t\":1"));
        per_message.push_back(2);
        if (i % 2 == 0) {
          owned->push_back("}");
          ++per_message.back();
        }
      }
      std::vector<std::string_view> pieces(owned->begin(), owned->end());
      c->send_parts(pieces, per_message, net::ws_opcode::text, owned);
    } else {
      c->send_text(std::string{msg});
    }
    std::lock_guard<std::mutex> guard{m};
    texts.emplace_back(msg);
    cv.notify_all();
  }
  void on_error(net::ws_error e) override {
    std::lock_guard<std::mutex> guard{m};
    errors.push_back(e);
    cv.notify_all();
  }
  void on_closed(uint16_t code, bool by_peer) override {
    std::lock_guard<std::mutex> guard{m};
    closed = std::make_pair(code, by_peer);
    ++closed_calls;
    cv.notify_all();
  }
  template <class Pred>
  bool wait(Pred p) {
    std::unique_lock<std::mutex> lock{m};
    return cv.wait_for(lock, 10s, p);
  }
  std::pair<uint16_t, bool> wait_closed() {
    REQUIRE(wait([&] { return closed.has_value(); }));
    std::lock_guard<std::mutex> guard{m};
    return *closed;
  }
};

// A started server whose acceptor starts a recorder on every upgraded connection.
struct ws_server {
  std::unique_ptr<net::http_server> server;
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::shared_ptr<recorder>> handlers;
  std::vector<net::ws_connection_ptr> conns;

  explicit ws_server(const std::string& name, net::ws_options ws = {}, size_t threads = 1) {
    net::server_options opts;
    opts.name = name;
    opts.websocket = ws;
    opts.threads = threads;
    server = std::make_unique<net::http_server>(opts);
    server->route("GET", "/plain", [](const net::http_request&) {
      return net::http_response{200, "text/plain", "plain", {}};
    });
    server->on_websocket([this](net::ws_connection_ptr c) {
      auto h = std::make_shared<recorder>();
      h->conn = c;
      c->start(h);
      std::lock_guard<std::mutex> guard{m};
      handlers.push_back(h);
      conns.push_back(c);
      cv.notify_all();
    });
    REQUIRE_FALSE(server->start());
  }
  uint16_t port() const { return server->port(); }
  std::pair<std::shared_ptr<recorder>, net::ws_connection_ptr> at(size_t i) {
    std::unique_lock<std::mutex> lock{m};
    REQUIRE(cv.wait_for(lock, 10s, [&] { return handlers.size() > i; }));
    return {handlers[i], conns[i]};
  }
};

// Beast client whose every operation gives up after 10 s instead of hanging the test.
struct ws_client {
  asio::io_context ioc;
  websocket::stream<tcp::socket> ws{ioc};
  std::vector<std::string> pongs;

  explicit ws_client(uint16_t port, const std::string& target = "/?v=10&encoding=json") {
    ws.next_layer().connect({asio::ip::make_address("127.0.0.1"), port});
    ws.control_callback([this](websocket::frame_type kind, beast::string_view payload) {
      if (kind == websocket::frame_type::pong) {
        pongs.emplace_back(payload);
      }
    });
    REQUIRE_FALSE(run([&](auto h) { ws.async_handshake("127.0.0.1", target, h); }));
  }

  template <class Start>
  beast::error_code run(Start start) {
    return testing::run_bounded(ioc, ws.next_layer(), start);
  }
  void write(const std::string& s, bool binary = false) {
    ws.binary(binary);
    REQUIRE_FALSE(run([&](auto h) { ws.async_write(asio::buffer(s), h); }));
  }
  void write_fragment(const std::string& s, bool fin) {
    ws.text(true);
    REQUIRE_FALSE(run([&](auto h) { ws.async_write_some(fin, asio::buffer(s), h); }));
  }
  std::string read() {
    beast::flat_buffer b;
    auto ec = run([&](auto h) { ws.async_read(b, h); });
    if (ec) {
      throw beast::system_error{ec};
    }
    return beast::buffers_to_string(b.data());
  }
  // Reads until the server's close frame; returns its code (0 if the read failed otherwise).
  uint16_t read_until_closed() {
    for (;;) {
      beast::flat_buffer b;
      auto ec = run([&](auto h) { ws.async_read(b, h); });
      if (ec == websocket::error::closed) {
        return static_cast<uint16_t>(ws.reason().code);
      }
      if (ec) {
        return 0;
      }
    }
  }
};

// One raw GET / with `headers`, answered by an HTTP response (not upgraded).
http::response<http::string_body> raw_get(uint16_t port, const std::string& headers) {
  asio::io_context ioc;
  tcp::socket sock{ioc};
  sock.connect({asio::ip::make_address("127.0.0.1"), port});
  asio::write(sock, asio::buffer("GET / HTTP/1.1\r\nHost: x\r\n" + headers + "\r\n"));
  beast::flat_buffer b;
  http::response<http::string_body> res;
  http::read(sock, b, res);
  return res;
}

double metric(const std::string& name, const metrics::labels& l) {
  return metrics::registry::global().value_of(name, l);
}

}  // namespace

TEST_CASE("the_accept_key_follows_rfc_6455") {
  CHECK(net::websocket_accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST_CASE("an_upgrade_on_any_path_and_query_is_accepted_and_echoes_text") {
  ws_server s{"t_ws_echo"};
  ws_client a{s.port(), "/?v=10&encoding=json&compress=zlib-stream"};
  ws_client b{s.port(), "/some/path"};
  auto ha_ca = s.at(0);
  auto ha = ha_ca.first;
  auto ca = ha_ca.second;
  auto hb_cb = s.at(1);
  auto hb = hb_cb.first;
  auto cb = hb_cb.second;
  CHECK(ca->upgrade_request().path == "/");
  CHECK(ca->upgrade_request().query == "v=10&encoding=json&compress=zlib-stream");
  CHECK(cb->upgrade_request().path == "/some/path");
  CHECK(ca->id() != cb->id());
  a.write("hello");
  CHECK(a.read() == "hello");
  b.write("{\"op\":1}");
  CHECK(b.read() == "{\"op\":1}");
  CHECK(metric("herald_ws_connections", {{"server", "t_ws_echo"}}) == 2);
  CHECK(metric("herald_http_requests_total", {{"server", "t_ws_echo"}, {"code", "101"}}) == 2);
  // Plain HTTP still works beside the upgrades.
  CHECK(net::http_fetch("127.0.0.1", s.port(), "GET", "/plain").body == "plain");
}

TEST_CASE("large_messages_use_16_and_64_bit_lengths_both_ways") {
  net::ws_options o;
  o.max_message_bytes = 200000;
  ws_server s{"t_ws_large", o};
  ws_client c{s.port()};
  for (size_t n : {125u, 126u, 65535u, 65536u, 150000u}) {
    std::string msg(n, 'x');
    msg.front() = '<';
    msg.back() = '>';
    c.write(msg);
    CHECK(c.read() == msg);
  }
}

TEST_CASE("fragmented_messages_arrive_joined") {
  ws_server s{"t_ws_fragments"};
  ws_client c{s.port()};
  c.write_fragment("frag", false);
  c.write_fragment("men", false);
  c.write_fragment("ted", true);
  CHECK(c.read() == "fragmented");
  auto h_conn = s.at(0);
  auto h = h_conn.first;
  auto conn = h_conn.second;
  std::lock_guard<std::mutex> guard{h->m};
  CHECK(h->texts == std::vector<std::string>{"fragmented"});
}

TEST_CASE("a_ping_gets_a_pong_with_its_payload") {
  ws_server s{"t_ws_ping"};
  ws_client c{s.port()};
  REQUIRE_FALSE(c.run([&](auto h) { c.ws.async_ping("are you there", h); }));
  c.write("after ping");
  CHECK(c.read() == "after ping");  // the pong was queued before this echo
  CHECK(c.pongs == std::vector<std::string>{"are you there"});
}

TEST_CASE("a_client_close_reaches_the_handler_with_its_code") {
  ws_server s{"t_ws_client_close"};
  ws_client c{s.port()};
  auto h_conn = s.at(0);
  auto h = h_conn.first;
  auto conn = h_conn.second;
  REQUIRE_FALSE(c.run([&](auto cb) { c.ws.async_close(websocket::close_reason{4321}, cb); }));
  CHECK(h->wait_closed() == std::make_pair(uint16_t{4321}, true));
  CHECK_FALSE(conn->is_open());
  CHECK(metric("herald_ws_connections", {{"server", "t_ws_client_close"}}) == 0);
}

TEST_CASE("a_server_close_reaches_the_client_with_its_code") {
  ws_server s{"t_ws_server_close"};
  ws_client c{s.port()};
  auto h_conn = s.at(0);
  auto h = h_conn.first;
  auto conn = h_conn.second;
  c.write("before");
  c.write("close:4002");
  CHECK(c.read() == "before");
  CHECK(c.read_until_closed() == 4002);
  CHECK(c.ws.reason().reason == "bye");
  CHECK(h->wait_closed() == std::make_pair(uint16_t{4002}, false));
  conn->close(1000);  // idempotent after the end
  conn->send_text("dropped");
  std::lock_guard<std::mutex> guard{h->m};
  CHECK(h->closed_calls == 1);
}

TEST_CASE("a_message_over_the_limit_is_an_error_and_the_connection_goes_on") {
  ws_server s{"t_ws_too_big"};  // default limit 4096
  ws_client c{s.port()};
  auto h_conn = s.at(0);
  auto h = h_conn.first;
  auto conn = h_conn.second;
  c.write(std::string(5000, 'a'));
  c.write_fragment(std::string(3000, 'b'), false);
  c.write_fragment(std::string(3000, 'b'), true);
  c.write(std::string(4096, 'c'));
  CHECK(c.read() == std::string(4096, 'c'));
  std::lock_guard<std::mutex> guard{h->m};
  CHECK(h->errors ==
        std::vector<net::ws_error>{net::ws_error::message_too_big, net::ws_error::message_too_big});
  CHECK(h->texts.size() == 1);
  CHECK(metric("herald_ws_inbound_errors_total",
               {{"server", "t_ws_too_big"}, {"kind", "message_too_big"}}) == 2);
}

TEST_CASE("a_binary_message_is_an_error_not_a_message") {
  ws_server s{"t_ws_binary"};
  ws_client c{s.port()};
  auto h_conn = s.at(0);
  auto h = h_conn.first;
  auto conn = h_conn.second;
  c.write("\x01\x02", true);
  c.write("text");
  CHECK(c.read() == "text");
  std::lock_guard<std::mutex> guard{h->m};
  CHECK(h->errors == std::vector<net::ws_error>{net::ws_error::binary_message});
  CHECK(h->texts == std::vector<std::string>{"text"});
}

TEST_CASE("send_parts_writes_each_message_as_its_pieces_joined") {
  net::ws_options o;
  o.max_message_bytes = 200000;
  ws_server s{"t_ws_parts", o};
  ws_client c{s.port()};
  c.write("parts:5");
  for (int i = 0; i < 5; ++i) {
    std::string want = "{\"s\":" + std::to_string(i) +
                       (i == 1 ? std::string(70000, 'x') : std::string(",\"t\":1")) +
                       (i % 2 == 0 ? "}" : "");
    REQUIRE(c.read() == want);
  }
  c.write("still framed");
  CHECK(c.read() == "still framed");
}

TEST_CASE("many_sends_from_the_strand_are_coalesced_into_few_writes") {
  ws_server s{"t_ws_coalesce"};
  ws_client c{s.port()};
  c.write("warm up");
  CHECK(c.read() == "warm up");
  double writes_before = metric("herald_ws_writev_total", {{"server", "t_ws_coalesce"}});
  c.write("burst:1000");  // 1000 send() calls inside one on_text
  for (int i = 0; i < 1000; ++i) {
    REQUIRE(c.read() == "m" + std::to_string(i));
  }
  auto writes = [&] {
    return metric("herald_ws_writev_total", {{"server", "t_ws_coalesce"}}) - writes_before;
  };
  // 1000 frames = 2000 iovecs: at least 2 sendmsg calls of up to 1024 iovecs each. The counter
  // is raised after sendmsg returns, so the client may read the last bytes before it moved.
  CHECK(testing::eventually([&] { return writes() >= 2; }, std::chrono::seconds{5}));
  CHECK(writes() <= 4);
}

TEST_CASE("sends_from_other_threads_keep_order_release_keepalive_and_run_on_written") {
  ws_server s{"t_ws_threads", {}, 2};
  ws_client c{s.port()};
  auto h_conn = s.at(0);
  auto h = h_conn.first;
  auto conn = h_conn.second;
  constexpr int batches = 200;
  constexpr int per_batch = 10;
  std::atomic<int> written{0};
  std::weak_ptr<const void> last_keepalive;
  std::thread sender([&, conn = conn] {
    for (int b = 0; b < batches; ++b) {
      auto payload = std::make_shared<std::vector<std::string>>();
      for (int i = 0; i < per_batch; ++i) {
        // Payloads of 1 KiB so that the socket buffer fills and writes are partial.
        std::string m = std::to_string(b * per_batch + i) + ":";
        m.resize(1024, '.');
        payload->push_back(std::move(m));
      }
      std::vector<std::string_view> views(payload->begin(), payload->end());
      last_keepalive = payload;
      conn->send(views, net::ws_opcode::text, payload, [&] { ++written; });
    }
  });
  for (int i = 0; i < batches * per_batch; ++i) {
    auto m = c.read();
    REQUIRE(m.size() == 1024);
    REQUIRE(m.substr(0, m.find(':')) == std::to_string(i));
  }
  sender.join();
  REQUIRE(h->wait([&] { return written.load() == batches; }));
  CHECK(last_keepalive.expired());
  CHECK(conn->queued_bytes() == 0);
}

TEST_CASE("write_parts_now_writes_in_the_call_when_nothing_is_queued_and_keeps_nothing") {
  ws_server s{"t_ws_now"};
  ws_client c{s.port()};
  auto conn = s.at(0).second;
  auto owned = std::make_shared<std::vector<std::string>>(
      std::vector<std::string>{"{\"s\":1", ",\"t\":1}", "{\"s\":2", "", ",\"t\":2}"});
  std::vector<std::string_view> pieces(owned->begin(), owned->end());
  bool ran = false;
  double writes_before = metric("herald_ws_writev_total", {{"server", "t_ws_now"}});
  // Nothing was ever sent on this connection: the queue is empty.
  CHECK(conn->write_parts_now(pieces, {2, 3}, net::ws_opcode::text, owned, [&] { ran = true; }));
  CHECK(owned.use_count() == 1);  // the keepalive was not kept
  CHECK(metric("herald_ws_writev_total", {{"server", "t_ws_now"}}) - writes_before == 1);
  CHECK(c.read() == "{\"s\":1,\"t\":1}");
  CHECK(c.read() == "{\"s\":2,\"t\":2}");
  c.write("round trip");
  CHECK(c.read() == "round trip");
  CHECK_FALSE(ran);  // written in the call: on_written never runs
}

TEST_CASE("write_parts_now_behind_queued_or_unwritable_output_queues_in_order") {
  net::ws_options o;
  o.max_queued_bytes = 64u << 20;
  o.max_message_bytes = 64;
  ws_server s{"t_ws_now_queued", o};
  ws_client c{s.port()};  // does not read until the writes below are done
  c.ws.read_message_max(16u << 20);
  auto conn = s.at(0).second;
  // 3 messages of 8 MiB: more than loopback socket buffers take, so the direct sendmsg is
  // partial and the rest is queued.
  auto big = std::make_shared<std::vector<std::string>>();
  for (char ch : {'a', 'b', 'c'}) {
    big->push_back(std::string(1u << 20, ch));
  }
  std::vector<std::string_view> pieces;
  for (int m = 0; m < 3; ++m) {
    for (int i = 0; i < 8; ++i) {
      pieces.emplace_back((*big)[m]);
    }
  }
  std::atomic<int> written{0};
  std::weak_ptr<const void> big_alive = big;
  CHECK_FALSE(conn->write_parts_now(pieces, {8, 8, 8}, net::ws_opcode::text, std::move(big),
                                    [&] { ++written; }));
  auto small = std::make_shared<std::string>("after");
  std::weak_ptr<const void> small_alive = small;
  std::vector<std::string_view> small_view{std::string_view{*small}};
  CHECK_FALSE(conn->write_parts_now(small_view, {1}, net::ws_opcode::text, std::move(small),
                                    [&] { ++written; }));
  for (char ch : {'a', 'b', 'c'}) {
    auto m = c.read();
    REQUIRE(m.size() == 8u << 20);
    CHECK(m.find_first_not_of(ch) == std::string::npos);
  }
  CHECK(c.read() == "after");
  REQUIRE(s.at(0).first->wait([&] { return written.load() == 2; }));
  CHECK(big_alive.expired());
  CHECK(small_alive.expired());
  // Once the writer is done (a strand task runs after it), the queue is empty again and the
  // next write goes out in the call.
  std::promise<bool> direct;
  auto again = std::make_shared<std::string>("direct again");
  conn->post([&] {
    direct.set_value(
        conn->write_parts_now({std::string_view{*again}}, {1}, net::ws_opcode::text, again));
  });
  CHECK(direct.get_future().get());
  CHECK(c.read() == "direct again");
}

TEST_CASE("an_outbound_queue_over_its_cap_closes_with_1008") {
  net::ws_options o;
  o.max_queued_bytes = 1000;
  ws_server s{"t_ws_queue_cap", o};
  ws_client c{s.port()};
  auto h_conn = s.at(0);
  auto h = h_conn.first;
  auto conn = h_conn.second;
  auto big = std::make_shared<std::string>(2000, 'z');
  std::atomic<bool> ran{false};
  conn->post([&] {
    conn->send({std::string_view{*big}}, net::ws_opcode::text, big, [&] { ran = true; });
  });
  CHECK(c.read_until_closed() == 1008);
  CHECK(h->wait_closed() == std::make_pair(uint16_t{1008}, false));
  CHECK(ran);
}

TEST_CASE("an_unmasked_client_frame_is_a_bad_frame_closed_with_1002") {
  ws_server s{"t_ws_unmasked"};
  testing::raw_connection raw{s.port()};
  // The unmasked frame is pipelined right behind the handshake: it may arrive in the
  // same read as the request and must be handed over to the WebSocket parser.
  raw.write(testing::ws_upgrade_request + std::string("\x81\x02hi", 4));
  auto h_conn = s.at(0);
  auto h = h_conn.first;
  auto conn = h_conn.second;
  REQUIRE(h->wait([&] { return !h->errors.empty(); }));
  CHECK(h->errors.front() == net::ws_error::bad_frame);
  CHECK(h->wait_closed().first == 1002);
  // The client got the 101 and then a close frame with 1002, then end of stream.
  std::string got = raw.read_to_end();
  CHECK(got.find("HTTP/1.1 101") == 0);
  CHECK(got.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") != std::string::npos);
  CHECK(got.substr(got.size() - 4 - 14) == std::string("\x88\x10\x03\xea") + "protocol error");
}

TEST_CASE("bad_upgrade_requests_are_400_and_without_an_acceptor_404") {
  ws_server s{"t_ws_bad_upgrade"};
  std::string good_key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
  std::string upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\n";
  CHECK(raw_get(s.port(), upgrade + "Sec-WebSocket-Version: 13\r\n").result_int() == 400);
  CHECK(raw_get(s.port(), upgrade + "Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n")
            .result_int() == 400);
  auto version = raw_get(s.port(), upgrade + good_key + "Sec-WebSocket-Version: 8\r\n");
  CHECK(version.result_int() == 400);
  CHECK(version["Sec-WebSocket-Version"] == "13");
  CHECK(raw_get(s.port(), "Upgrade: websocket\r\nConnection: keep-alive\r\n" + good_key +
                              "Sec-WebSocket-Version: 13\r\n")
            .result_int() == 400);
  CHECK(metric("herald_http_requests_total", {{"server", "t_ws_bad_upgrade"}, {"code", "400"}}) ==
        4);

  net::server_options opts;
  opts.name = "t_ws_no_acceptor";
  net::http_server plain{opts};
  REQUIRE_FALSE(plain.start());
  CHECK(raw_get(plain.port(), upgrade + good_key + "Sec-WebSocket-Version: 13\r\n").result_int() ==
        404);
}

TEST_CASE("the_filter_also_guards_upgrades") {
  net::server_options opts;
  opts.name = "t_ws_filter";
  net::http_server srv{opts};
  srv.set_filter([](const net::http_request&) -> std::optional<net::http_response> {
    return net::http_response{503, "application/json", "{}", {}};
  });
  std::atomic<bool> upgraded{false};
  srv.on_websocket([&](net::ws_connection_ptr) { upgraded = true; });
  REQUIRE_FALSE(srv.start());
  auto res = raw_get(srv.port(),
                     "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n");
  CHECK(res.result_int() == 503);
  CHECK_FALSE(upgraded);
}

TEST_CASE("stop_closes_open_connections_with_1001_and_returns") {
  ws_server s{"t_ws_stop"};
  ws_client c{s.port()};
  auto h_conn = s.at(0);
  auto h = h_conn.first;
  auto conn = h_conn.second;
  c.write("hi");
  CHECK(c.read() == "hi");
  std::thread stopper([&] { s.server->stop(); });
  CHECK(c.read_until_closed() == 1001);
  stopper.join();
  CHECK(h->wait_closed() == std::make_pair(uint16_t{1001}, false));
  CHECK(metric("herald_ws_connections", {{"server", "t_ws_stop"}}) == 0);
  // After stop every call is a harmless no-op.
  conn->send_text("late");
  std::atomic<bool> ran{false};
  conn->post([&] { ran = true; });
  conn->close(1000);
  std::this_thread::sleep_for(50ms);
  CHECK_FALSE(ran);
}

TEST_CASE("a_connection_started_after_stop_reports_closed_inline") {
  net::server_options opts;
  opts.name = "t_ws_late_start";
  net::http_server srv{opts};
  std::promise<net::ws_connection_ptr> got;
  srv.on_websocket([&](net::ws_connection_ptr c) { got.set_value(c); });
  REQUIRE_FALSE(srv.start());
  ws_client c{srv.port()};
  auto conn = got.get_future().get();
  srv.stop();
  auto h = std::make_shared<recorder>();
  conn->start(h);
  CHECK(h->wait_closed() == std::make_pair(uint16_t{1001}, false));
}

TEST_CASE("the_upgrade_request_keeps_its_headers_but_not_the_handshake_fields") {
  ws_server s{"t_ws_headers"};
  ws_client c{s.port(), "/gw?v=10"};
  auto h_conn = s.at(0);
  const auto& req = h_conn.second->upgrade_request();
  CHECK(req.method == "GET");
  CHECK(req.target == "/gw?v=10");
  CHECK(req.header("host") == "127.0.0.1");
  CHECK(req.header("sec-websocket-key").empty());
  CHECK(req.header("upgrade").empty());
  h_conn.second->release_upgrade_request();  // frees it: `req` dangles from here on
  CHECK(h_conn.second->upgrade_request().target.empty());
  CHECK(h_conn.second->upgrade_request().headers.empty());
  h_conn.second->start(nullptr);  // a second start is ignored
  c.write("still one reader");
  CHECK(c.read() == "still one reader");
}

// Regression: a close frame stuck behind output a peer never reads kept the connection (and
// http_server::stop) waiting forever.
TEST_CASE("closing_a_connection_whose_peer_stopped_reading_ends_within_close_timeouts") {
  net::ws_options o;
  o.close_timeout = 1s;
  o.max_queued_bytes = 64u << 20;
  ws_server s{"t_ws_stuck_peer", o};
  ws_client c{s.port()};  // never reads from here on
  auto h_conn = s.at(0);
  auto h = h_conn.first;
  auto big = std::make_shared<std::string>(1u << 20, 'x');
  std::vector<std::string_view> views(48, std::string_view{*big});
  h_conn.second->send(views, net::ws_opcode::text, big);
  h_conn.second->close(4000, "slow consumer");
  CHECK(h->wait_closed() == std::make_pair(uint16_t{4000}, false));
}
