// SPDX-License-Identifier: Apache-2.0
// Bad input never crashes the node: garbage bytes on the gateway and admin ports, broken and
// oversized WebSocket frames, invalid JSON, unknown opcodes each end only their own connection
// (with the documented close code), and the node keeps serving afterwards.
#include <array>
#include <functional>
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

/// What a raw TCP exchange got back.
struct raw_result {
  bool closed = false;  ///< the server closed (EOF or reset) within the timeout
  std::string received;
};

/// Connects to 127.0.0.1:port, writes `bytes`, reads until the server closes, `done(received)`
/// says enough, or `timeout`.
raw_result raw_exchange(uint16_t port, const std::string& bytes,
                        const std::function<bool(const std::string&)>& done = {},
                        std::chrono::milliseconds timeout = 5s) {
  raw_result out;
  asio::io_context io;
  asio::ip::tcp::socket sock{io};
  boost::system::error_code ec;
  sock.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
  REQUIRE_FALSE(ec);
  asio::write(sock, asio::buffer(bytes), ec);  // may fail once the server gave up: fine
  std::array<char, 4096> buf{};
  std::function<void()> read = [&] {
    sock.async_read_some(asio::buffer(buf), [&](boost::system::error_code e, size_t n) {
      out.received.append(buf.data(), n);
      if (e) {
        out.closed = true;
        return;
      }
      if (done && done(out.received)) {
        return;
      }
      read();
    });
  };
  read();
  io.run_for(timeout);
  sock.close(ec);
  return out;
}

bool has_http_head(const std::string& s) { return s.find("\r\n\r\n") != std::string::npos; }

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

TEST_CASE("Garbage bytes on the gateway and admin ports only end their own connection",
          "[integration][e2e]") {
  node n;
  auto alice = n.create_user("alice");
  n.create_guild("guild", alice);

  static const char tls_bytes[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\xff\xfe garbage\r\n\r\n";
  const std::string tls_hello_ish{tls_bytes, sizeof(tls_bytes) - 1};
  for (auto port : {n.gateway_port(), n.admin_port()}) {
    INFO("port " << port);
    auto binary = raw_exchange(port, tls_hello_ish, has_http_head);
    CHECK((binary.closed || http_status(binary.received) >= 400));
    auto not_http = raw_exchange(port, "HELLO THERE\r\n\r\n", has_http_head);
    CHECK((not_http.closed || http_status(not_http.received) >= 400));
    auto huge_header = raw_exchange(port, "GET / HTTP/1.1\r\nX-Big: " + std::string(200000, 'a'),
                                    has_http_head);
    CHECK((huge_header.closed || http_status(huge_header.received) >= 400));
    auto bad_upgrade = raw_exchange(
      port, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
      has_http_head);
    CHECK((bad_upgrade.closed || http_status(bad_upgrade.received) >= 400));
    auto bad_json = testing::http_call(port, "POST", "/v1/users", "{\"name\": ");
    CHECK(bad_json.status >= 400);
    CHECK(bad_json.status < 500);
  }
  check_still_serving(n, alice);
}

TEST_CASE("Broken WebSocket frames get a close and never crash the node", "[integration][e2e]") {
  node n;
  auto alice = n.create_user("alice");
  n.create_guild("guild", alice);
  auto closed_or_close_frame = [](const std::string& s) { return close_code_in(s).has_value(); };

  SECTION("a frame announcing 2^62 bytes") {
    auto r = raw_exchange(n.gateway_port(),
                          upgrade_request + frame_header_64(0x81, uint64_t{1} << 62) + "{}",
                          closed_or_close_frame);
    CHECK(http_status(r.received) == 101);
    // Over the 4096-byte inbound limit: 4002, told before the payload is read.
    CHECK(close_code_in(r.received) == uint16_t{4002});
  }
  SECTION("reserved bits and a reserved opcode") {
    auto r = raw_exchange(n.gateway_port(), upgrade_request + small_frame(0xf3, "{}"),
                          closed_or_close_frame);
    CHECK(http_status(r.received) == 101);
    // A protocol error: the gateway's 4002 (wrong shape) or the WebSocket layer's 1002.
    auto code = close_code_in(r.received);
    REQUIRE(code);
    CHECK((*code == 4002 || *code == 1002));
  }
  SECTION("an unmasked client frame, then the connection is cut mid-frame") {
    std::string unmasked = "\x81\x05{\"op\"";
    auto r = raw_exchange(n.gateway_port(), upgrade_request + unmasked + "\x81\xfe\x10",
                          closed_or_close_frame, 3s);
    CHECK(http_status(r.received) == 101);
  }
  check_still_serving(n, alice);
}

TEST_CASE("Oversized frames or invalid JSON close with 4002 and unknown opcodes with 4001",
          "[integration][e2e]") {
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
