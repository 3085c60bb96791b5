// SPDX-License-Identifier: Apache-2.0
// Bad input never crashes the node: garbage bytes on the gateway and admin ports, broken and
// oversized WebSocket frames, invalid JSON, unknown opcodes each end only their own connection
// (with the documented close code), and the node keeps serving afterwards.
#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include "e2e_fixture.hpp"

using namespace herald;
using namespace herald::e2e;

namespace {

namespace asio = boost::asio;

/// A raw TCP connection to 127.0.0.1:port: write bytes, read until a condition holds.
class raw_session {
public:
  explicit raw_session(uint16_t port) : sock_(io_) {
    boost::system::error_code ec;
    sock_.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
    REQUIRE_FALSE(ec);
  }
  void write(const std::string& bytes) {
    boost::system::error_code ec;
    asio::write(sock_, asio::buffer(bytes), ec);  // may fail once the server gave up: fine
  }
  /// Reads until `done(received())`, the server closes, or `timeout`; true when `done` held.
  bool read_until(const std::function<bool(const std::string&)>& done,
                  std::chrono::milliseconds timeout = 5s) {
    if (done && done(received_)) {
      return true;
    }
    bool matched = false;
    std::function<void()> read = [&] {
      sock_.async_read_some(asio::buffer(buf_), [&](boost::system::error_code e, size_t n) {
        received_.append(buf_.data(), n);
        if (e) {
          closed_ = true;
          return;
        }
        if (done && done(received_)) {
          matched = true;
          return;
        }
        read();
      });
    };
    if (closed_) {
      return false;
    }
    read();
    io_.restart();
    io_.run_for(timeout);
    if (!matched && !closed_) {
      boost::system::error_code ec;
      sock_.cancel(ec);
      io_.restart();
      io_.run_for(1s);
    }
    return matched;
  }
  const std::string& received() const { return received_; }
  bool closed() const { return closed_; }

private:
  asio::io_context io_;
  asio::ip::tcp::socket sock_;
  std::array<char, 4096> buf_{};
  std::string received_;
  bool closed_ = false;
};

/// What a raw TCP exchange got back.
struct raw_result {
  bool closed = false;   ///< the server closed (EOF or reset) within the timeout
  bool matched = false;  ///< `done` said enough within the timeout
  std::string received;
};

/// Connects to 127.0.0.1:port, writes `bytes`, reads until the server closes, `done(received)`
/// says enough, or `timeout`.
raw_result raw_exchange(uint16_t port, const std::string& bytes,
                        const std::function<bool(const std::string&)>& done = {},
                        std::chrono::milliseconds timeout = 5s) {
  raw_session session{port};
  session.write(bytes);
  raw_result out;
  out.matched = session.read_until(done, timeout);
  out.closed = session.closed();
  out.received = session.received();
  return out;
}

bool has_http_head(const std::string& s) {
  return s.find("\r\n\r\n") != std::string::npos;
}

/// The status line's code of an HTTP answer, 0 when there is none.
unsigned http_status(const std::string& s) {
  if (s.rfind("HTTP/1.1 ", 0) != 0 || s.size() < 12) {
    return 0;
  }
  return static_cast<unsigned>(std::stoul(s.substr(9, 3)));
}

/// The close code of the first close frame in the server's (unmasked) frames after the
/// upgrade answer; nullopt if none is complete yet.
std::optional<uint16_t> close_code_in(const std::string& s) {
  auto pos = s.find("\r\n\r\n");
  if (pos == std::string::npos) {
    return std::nullopt;
  }
  size_t i = pos + 4;
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  while (i + 2 <= s.size()) {
    unsigned opcode = byte(i) & 0x0f;
    uint64_t len = byte(i + 1) & 0x7f;
    size_t head = 2;
    if (len == 126) {
      if (i + 4 > s.size()) {
        return std::nullopt;
      }
      len = (uint64_t{byte(i + 2)} << 8) | byte(i + 3);
      head = 4;
    } else if (len == 127) {
      if (i + 10 > s.size()) {
        return std::nullopt;
      }
      len = 0;
      for (size_t k = 0; k < 8; ++k) {
        len = (len << 8) | byte(i + 2 + k);
      }
      head = 10;
    }
    if (i + head + len > s.size()) {
      return std::nullopt;
    }
    if (opcode == 8) {
      return len >= 2 ? static_cast<uint16_t>((byte(i + head) << 8) | byte(i + head + 1)) : 1005;
    }
    i += head + len;
  }
  return std::nullopt;
}

const std::string upgrade_request =
    "GET /?v=10&encoding=json HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n";

/// A masked client frame header (mask key 0) with `first` (FIN/RSV/opcode) and a 64-bit length.
std::string frame_header_64(unsigned char first, uint64_t len) {
  std::string h;
  h.push_back(static_cast<char>(first));
  h.push_back(static_cast<char>(0x80 | 127));
  for (int k = 7; k >= 0; --k) {
    h.push_back(static_cast<char>((len >> (8 * k)) & 0xff));
  }
  h.append(4, '\0');  // mask key
  return h;
}

/// A complete masked (key 0) client frame.
std::string small_frame(unsigned char first, const std::string& payload) {
  std::string f;
  f.push_back(static_cast<char>(first));
  f.push_back(static_cast<char>(0x80 | payload.size()));
  f.append(4, '\0');
  return f + payload;
}

/// A raw connection that completed the upgrade and received Hello.
std::unique_ptr<raw_session> after_hello(uint16_t port) {
  auto session = std::make_unique<raw_session>(port);
  session->write(upgrade_request);
  REQUIRE(session->read_until(
      [](const std::string& s) { return s.find("{\"op\":10,") != std::string::npos; }));
  REQUIRE(http_status(session->received()) == 101);
  return session;
}

bool close_seen(const std::string& s) {
  return close_code_in(s).has_value();
}

/// The node still serves: health, REST and a fresh identify.
void check_still_serving(node& n, const user& alice) {
  REQUIRE(n.process().running());
  CHECK(testing::http_call(n.admin_port(), "GET", "/healthz").status == 200);
  CHECK(testing::http_call(n.admin_port(), "GET", "/readyz").status == 200);
  auto gw = testing::rest_client{n.gateway_port(), alice.token}.get("/gateway/bot");
  CHECK(gw.status == 200);
  CHECK(gw.json()["session_start_limit"].is_object());
  testing::gateway_client fresh{n.gateway_port()};
  auto ready = fresh.login(alice.token, 1);
  CHECK(ready["d"]["user"]["id"] == alice.id);
}

}  // namespace

TEST_CASE("garbage_bytes_on_the_gateway_and_admin_ports_only_end_their_own_connection") {
  node n;
  auto alice = n.create_user("alice");
  n.create_guild("guild", alice);

  static const char tls_bytes[] =
      "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\xff\xfe garbage\r\n\r\n";
  const std::string tls_hello_ish{tls_bytes, sizeof(tls_bytes) - 1};
  for (auto port : {n.gateway_port(), n.admin_port()}) {
    INFO("port " << port);
    auto binary = raw_exchange(port, tls_hello_ish, has_http_head);
    CHECK((binary.closed || http_status(binary.received) >= 400));
    auto not_http = raw_exchange(port, "HELLO THERE\r\n\r\n", has_http_head);
    CHECK((not_http.closed || http_status(not_http.received) >= 400));
    auto huge_header =
        raw_exchange(port, "GET / HTTP/1.1\r\nX-Big: " + std::string(200000, 'a'), has_http_head);
    CHECK((huge_header.closed || http_status(huge_header.received) >= 400));
    auto bad_upgrade = raw_exchange(
        port, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        has_http_head);
    CHECK((bad_upgrade.closed || http_status(bad_upgrade.received) >= 400));
    auto huge_body = raw_exchange(port,
                                  "POST /v1/users HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                  "application/json\r\nContent-Length: 10000000000\r\n\r\n{",
                                  has_http_head);
    CHECK((huge_body.closed || http_status(huge_body.received) == 413));
    auto bad_chunk = raw_exchange(
        port, "POST /v1/users HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        has_http_head);
    CHECK((bad_chunk.closed || http_status(bad_chunk.received) == 400));
    auto bad_json = testing::http_call(port, "POST", "/v1/users", "{\"name\": ");
    CHECK(bad_json.status >= 400);
    CHECK(bad_json.status < 500);
  }
  check_still_serving(n, alice);
}

TEST_CASE("broken_websocket_frames_get_a_close_and_never_crash_the_node") {
  node n;
  auto alice = n.create_user("alice");
  n.create_guild("guild", alice);

  SECTION("a frame announcing 2^62 bytes") {
    auto ws = after_hello(n.gateway_port());
    ws->write(frame_header_64(0x81, uint64_t{1} << 62) + "{}");
    ws->read_until(close_seen);
    // Over the 4096-byte inbound limit: 4002, told before the payload is read.
    CHECK(close_code_in(ws->received()) == uint16_t{4002});
  }
  SECTION("reserved bits and a reserved opcode") {
    auto ws = after_hello(n.gateway_port());
    ws->write(small_frame(0xf3, "{}"));
    ws->read_until(close_seen);
    // A protocol error: the gateway's 4002 (wrong shape) or the WebSocket layer's 1002.
    auto code = close_code_in(ws->received());
    REQUIRE(code);
    CHECK((*code == 4002 || *code == 1002));
  }
  SECTION("an unmasked client frame, then the connection is cut mid-frame") {
    auto ws = after_hello(n.gateway_port());
    ws->write(std::string("\x81\x05{\"op\"", 7) + "\x81\xfe\x10");
    ws->read_until(close_seen, 3s);
  }
  check_still_serving(n, alice);
}

TEST_CASE("oversized_frames_or_invalid_json_close_with_4002_and_unknown_opcodes_with_4001") {
  node n;
  auto alice = n.create_user("alice");
  n.create_guild("guild", alice);

  SECTION("a message over 4096 bytes closes with 4002") {
    testing::gateway_client ws{n.gateway_port()};
    REQUIRE(ws.next());
    ws.send({{"op", 1}, {"d", nullptr}, {"padding", std::string(5000, 'x')}});
    CHECK(ws.wait_close(5s) == 4002);
  }
  SECTION("a message of exactly 4096 bytes is accepted") {
    testing::gateway_client ws{n.gateway_port()};
    REQUIRE(ws.next());
    json hb = {{"op", 1}, {"d", nullptr}, {"padding", ""}};
    hb["padding"] = std::string(4096 - hb.dump().size(), 'x');
    REQUIRE(hb.dump().size() == 4096);
    ws.send(hb);
    auto ack = ws.next_op(11, "", 5s);
    CHECK(ack);
  }
  SECTION("invalid JSON closes with 4002") {
    testing::gateway_client ws{n.gateway_port()};
    REQUIRE(ws.next());
    ws.send_text("{\"op\": 2, \"d\": {");
    CHECK(ws.wait_close(5s) == 4002);
  }
  SECTION("JSON that is not an object closes with 4002") {
    testing::gateway_client ws{n.gateway_port()};
    REQUIRE(ws.next());
    ws.send_text("[1, 2, 3]");
    CHECK(ws.wait_close(5s) == 4002);
  }
  SECTION("a binary message closes with 4002") {
    testing::gateway_client ws{n.gateway_port()};
    REQUIRE(ws.next());
    ws.send_binary(std::string("\x00\x01\x02\xff", 4));
    CHECK(ws.wait_close(5s) == 4002);
  }
  SECTION("an unknown opcode after Identify closes with 4001") {
    testing::gateway_client ws{n.gateway_port()};
    ws.login(alice.token, 1);
    ws.send({{"op", 99}, {"d", nullptr}});
    CHECK(ws.wait_close(5s) == 4001);
  }
  check_still_serving(n, alice);
}

TEST_CASE("fragments_are_reassembled_and_pings_answered_while_framing_violations_close_4002") {
  node n;
  auto alice = n.create_user("alice");
  n.create_guild("guild", alice);
  auto seen = [](std::string needle) {
    return [needle](const std::string& s) {
      return s.find(needle) != std::string::npos || close_code_in(s).has_value();
    };
  };

  SECTION("a heartbeat split over a text frame and a continuation gets op 11") {
    auto ws = after_hello(n.gateway_port());
    ws->write(small_frame(0x01, "{\"op\":1,") + small_frame(0x00, "\"d\"") +
              small_frame(0x80, ":null}"));
    CHECK(ws->read_until(seen("\"op\":11")));
    CHECK(ws->received().find("\"op\":11") != std::string::npos);
  }
  SECTION("a ping between fragments gets a pong with its payload") {
    auto ws = after_hello(n.gateway_port());
    ws->write(small_frame(0x01, "{\"op\":1,") + small_frame(0x89, "hi") +
              small_frame(0x80, "\"d\":null}"));
    CHECK(ws->read_until(seen("\"op\":11")));
    CHECK(ws->received().find(std::string("\x8a\x02hi", 4)) != std::string::npos);
  }
  SECTION("fragments adding up to more than 4096 bytes close with 4002") {
    auto ws = after_hello(n.gateway_port());
    std::string part(2000, ' ');
    ws->write(frame_header_64(0x01, 2000) + part + frame_header_64(0x00, 2000) + part +
              frame_header_64(0x80, 2000) + part);
    ws->read_until(close_seen);
    CHECK(close_code_in(ws->received()) == uint16_t{4002});
  }
  SECTION("a continuation without a first frame closes with 4002") {
    auto ws = after_hello(n.gateway_port());
    ws->write(small_frame(0x80, "{}"));
    ws->read_until(close_seen);
    CHECK(close_code_in(ws->received()) == uint16_t{4002});
  }
  SECTION("a control frame over 125 bytes is a protocol error") {
    auto ws = after_hello(n.gateway_port());
    ws->write(frame_header_64(0x89, 200) + std::string(200, 'p'));
    ws->read_until(close_seen);
    auto code = close_code_in(ws->received());
    REQUIRE(code);
    CHECK((*code == 4002 || *code == 1002));
  }
  SECTION("a client close frame 1000 is echoed") {
    auto ws = after_hello(n.gateway_port());
    ws->write(small_frame(0x88, std::string("\x03\xe8", 2)));
    ws->read_until(close_seen);
    CHECK(close_code_in(ws->received()) == uint16_t{1000});
  }
  check_still_serving(n, alice);
}

TEST_CASE("a_frame_sent_right_after_the_upgrade_request_before_hello_is_not_dropped") {
  // RFC 6455 lets a client send as soon as it sent its handshake; the gateway must read such
  // a frame once its protocol is open (Hello first), not discard it.
  node n;
  raw_session ws{n.gateway_port()};
  ws.write(upgrade_request + small_frame(0x81, "{\"op\":1,\"d\":null}"));
  CHECK(ws.read_until([](const std::string& s) { return s.find("\"op\":11") != std::string::npos; },
                      3s));
  auto hello = ws.received().find("\"op\":10");
  auto ack = ws.received().find("\"op\":11");
  CHECK(hello != std::string::npos);
  CHECK(hello < ack);
  REQUIRE(n.process().running());
}
