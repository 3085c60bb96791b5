// SPDX-License-Identifier: Apache-2.0
// Misbehaving gateway clients for herald-bench soak. Every network step runs on a private
// io_context for at most a few seconds (run_for), so no case can hang the soak.
#include "tools/herald-bench/soak_bad_clients.hpp"

#include <sys/socket.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

namespace herald::bench {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using ws_stream = websocket::stream<tcp::socket>;

/// Runs one async operation to completion or `timeout`; on timeout `cancel` is called and
/// the operation is drained. Returns the operation's error (operation_aborted on timeout).
beast::error_code run_bounded(asio::io_context& io,
                              const std::function<void(std::function<void(beast::error_code)>)>& op,
                              const std::function<void()>& cancel,
                              std::chrono::milliseconds timeout = 5000ms) {
  bool done = false;
  beast::error_code result;
  op([&](beast::error_code ec) {
    done = true;
    result = ec;
  });
  io.restart();
  io.run_for(timeout);
  if (!done) {
    cancel();
    io.restart();
    io.run_for(1000ms);
    return asio::error::operation_aborted;
  }
  return result;
}

tcp::endpoint endpoint_of(uint16_t port) {
  return {asio::ip::make_address("127.0.0.1"), port};
}

/// Connects and upgrades; false on failure.
bool ws_open(asio::io_context& io, ws_stream& ws, uint16_t port) {
  auto cancel = [&] {
    beast::error_code ignored;
    ws.next_layer().close(ignored);
  };
  auto ec = run_bounded(
      io, [&](auto done) { ws.next_layer().async_connect(endpoint_of(port), done); }, cancel);
  if (ec) {
    return false;
  }
  ec = run_bounded(
      io,
      [&](auto done) {
        ws.async_handshake("127.0.0.1:" + std::to_string(port), "/?v=10&encoding=json", done);
      },
      cancel);
  return !ec;
}

/// Reads one message into `out`; the error (websocket::error::closed carries ws.reason()).
beast::error_code ws_read(asio::io_context& io, ws_stream& ws, std::string& out) {
  beast::flat_buffer buffer;
  auto ec = run_bounded(
      io,
      [&](auto done) { ws.async_read(buffer, [done](beast::error_code e, size_t) { done(e); }); },
      [&] {
        beast::error_code ignored;
        ws.next_layer().close(ignored);
      });
  out = beast::buffers_to_string(buffer.cdata());
  return ec;
}

beast::error_code ws_write(asio::io_context& io, ws_stream& ws, const std::string& text,
                           bool binary = false) {
  ws.binary(binary);
  return run_bounded(
      io,
      [&](auto done) {
        ws.async_write(asio::buffer(text), [done](beast::error_code e, size_t) { done(e); });
      },
      [&] {
        beast::error_code ignored;
        ws.next_layer().close(ignored);
      });
}

/// Reads until the node closes; returns its close code, 0 when the TCP connection ended
/// without a close frame, -1 when nothing ended within the bound.
int close_code_after(asio::io_context& io, ws_stream& ws) {
  std::string msg;
  for (int i = 0; i < 64; ++i) {
    auto ec = ws_read(io, ws, msg);
    if (ec == websocket::error::closed) {
      return ws.reason().code;
    }
    if (ec == asio::error::operation_aborted) {
      return -1;
    }
    if (ec) {
      return 0;
    }
  }
  return -1;
}

/// Hello read, then `payload` sent; the node must close with `expected`.
bool expect_close(const bad_client_target& t, const std::string& payload, int expected,
                  bool identify_first = false, bool binary = false) {
  asio::io_context io;
  ws_stream ws{io};
  ws.read_message_max(1 << 20);
  std::string msg;
  if (!ws_open(io, ws, t.port) || ws_read(io, ws, msg)) {
    return false;
  }
  if (identify_first) {
    nlohmann::json identify = {
        {"op", 2},
        {"d",
         {{"token", t.token},
          {"intents", 1},
          {"properties", {{"os", "linux"}, {"browser", "soak"}, {"device", "soak"}}}}}};
    if (ws_write(io, ws, identify.dump())) {
      return false;
    }
    // Wait for READY so the next frame is judged on an identified connection.
    for (int i = 0; i < 8; ++i) {
      if (ws_read(io, ws, msg)) {
        return false;
      }
      if (msg.find("\"t\":\"READY\"") != std::string::npos) {
        break;
      }
    }
  }
  if (ws_write(io, ws, payload, binary)) {
    return false;
  }
  return close_code_after(io, ws) == expected;
}

/// Reads raw bytes until EOF or an error: true when the node ended the connection in time.
bool raw_drained(asio::io_context& io, tcp::socket& sock) {
  char buf[4096];
  for (int i = 0; i < 256; ++i) {
    auto ec = run_bounded(
        io,
        [&](auto done) {
          sock.async_read_some(asio::buffer(buf), [done](beast::error_code e, size_t) { done(e); });
        },
        [&] {
          beast::error_code ignored;
          sock.close(ignored);
        });
    if (ec == asio::error::operation_aborted) {
      return false;
    }
    if (ec) {
      return true;  // eof or reset: dropped
    }
  }
  return false;
}

/// After the upgrade, a raw masked close frame with code 999 (invalid on the wire): the node
/// must end the connection (close frame or TCP close) within the bound.
bool invalid_close_code(const bad_client_target& t) {
  asio::io_context io;
  ws_stream ws{io};
  std::string msg;
  if (!ws_open(io, ws, t.port) || ws_read(io, ws, msg)) {
    return false;
  }
  const unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
  const unsigned char code[2] = {0x03, 0xE7};  // 999
  std::string frame = {static_cast<char>(0x88), static_cast<char>(0x82)};
  frame.append(reinterpret_cast<const char*>(mask), 4);
  frame.push_back(static_cast<char>(code[0] ^ mask[0]));
  frame.push_back(static_cast<char>(code[1] ^ mask[1]));
  auto& sock = ws.next_layer();
  auto cancel = [&] {
    beast::error_code ignored;
    sock.close(ignored);
  };
  if (run_bounded(
          io,
          [&](auto done) {
            asio::async_write(sock, asio::buffer(frame),
                              [done](beast::error_code e, size_t) { done(e); });
          },
          cancel)) {
    return false;
  }
  return raw_drained(io, sock);
}

/// Garbage bytes (not HTTP) on the gateway port: answered (400) and/or dropped.
bool garbage_bytes(const bad_client_target& t) {
  asio::io_context io;
  tcp::socket sock{io};
  auto cancel = [&] {
    beast::error_code ignored;
    sock.close(ignored);
  };
  if (run_bounded(
          io, [&](auto done) { sock.async_connect(endpoint_of(t.port), done); }, cancel)) {
    return false;
  }
  std::string garbage = "\x16\x03\x01\x02\x00\xff\xfe garbage \x01\x02\x03\r\n\r\n";
  garbage += std::string(512, '\x7f');
  garbage += "\r\n\r\n";
  if (run_bounded(
          io,
          [&](auto done) {
            asio::async_write(sock, asio::buffer(garbage),
                              [done](beast::error_code e, size_t) { done(e); });
          },
          cancel)) {
    return true;  // reset while writing: dropped
  }
  return raw_drained(io, sock);
}

struct bad_case {
  const char* name;
  std::function<bool(const bad_client_target&)> run;
};

const std::vector<bad_case>& cases() {
  static const std::vector<bad_case> all = {
      {"malformed_json", [](const auto& t) { return expect_close(t, "{\"op\":1,\"d\":", 4002); }},
      {"unknown_opcode",
       [](const auto& t) { return expect_close(t, "{\"op\":99,\"d\":null}", 4001, true); }},
      {"oversized_frame",
       [](const auto& t) {
         return expect_close(t, "{\"op\":1,\"d\":\"" + std::string(5000, 'x') + "\"}", 4002);
       }},
      {"binary_message",
       [](const auto& t) { return expect_close(t, "{\"op\":1}", 4002, false, true); }},
      {"op_before_identify",
       [](const auto& t) { return expect_close(t, "{\"op\":3,\"d\":{}}", 4003); }},
      {"bad_token",
       [](const auto& t) {
         return expect_close(
             t,
             R"({"op":2,"d":{"token":"nope","intents":1,"properties":{"os":"l","browser":"b","device":"d"}}})",
             4004);
       }},
      {"invalid_close_code", invalid_close_code},
      {"garbage_bytes", garbage_bytes},
  };
  return all;
}

}  // namespace

size_t bad_client_cases() {
  return cases().size();
}

std::string bad_client_name(size_t i) {
  return cases()[i % cases().size()].name;
}

bool run_bad_client(const bad_client_target& t, size_t i) {
  try {
    return cases()[i % cases().size()].run(t);
  } catch (const std::exception&) {
    return false;
  }
}

struct held_bad_clients::impl {
  asio::io_context io;
  tcp::socket slowloris{io};
  ws_stream consumer{io};
};

held_bad_clients::held_bad_clients(const bad_client_target& t) : impl_(std::make_unique<impl>()) {
  auto& io = impl_->io;
  auto cancel = [&] {
    beast::error_code ignored;
    impl_->slowloris.close(ignored);
  };
  if (!run_bounded(
          io, [&](auto done) { impl_->slowloris.async_connect(endpoint_of(t.port), done); },
          cancel)) {
    std::string partial = "GET /?v=10&encoding=json HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
    run_bounded(
        io,
        [&](auto done) {
          asio::async_write(impl_->slowloris, asio::buffer(partial),
                            [done](beast::error_code e, size_t) { done(e); });
        },
        cancel);
  }
  // A session that identifies and then never reads: a tiny receive buffer so the node's
  // outbound queue for it fills as fast as possible.
  auto& c = impl_->consumer;
  c.next_layer().open(tcp::v4());
  c.next_layer().set_option(asio::socket_base::receive_buffer_size(4096));
  std::string msg;
  if (ws_open(io, c, t.port) && !ws_read(io, c, msg)) {
    nlohmann::json identify = {
        {"op", 2},
        {"d",
         {{"token", t.token},
          {"intents", (1 << 0) | (1 << 9) | (1 << 15)},
          {"properties", {{"os", "linux"}, {"browser", "soak"}, {"device", "soak"}}}}}};
    ws_write(io, c, identify.dump());
  }
}

held_bad_clients::~held_bad_clients() = default;

held_bad_clients::outcome held_bad_clients::finish() {
  outcome o;
  auto& io = impl_->io;
  // The slowloris connection must already be gone: one short read tells.
  char buf[256];
  auto ec = run_bounded(
      io,
      [&](auto done) {
        impl_->slowloris.async_read_some(asio::buffer(buf),
                                         [done](beast::error_code e, size_t) { done(e); });
      },
      [&] {
        beast::error_code ignored;
        impl_->slowloris.close(ignored);
      },
      200ms);
  o.slowloris_dropped = ec && ec != asio::error::operation_aborted;
  int code = close_code_after(io, impl_->consumer);
  o.slow_consumer_code = code > 0 ? code : 0;
  o.slow_consumer_closed = code >= 0;
  beast::error_code ignored;
  impl_->slowloris.close(ignored);
  impl_->consumer.next_layer().close(ignored);
  return o;
}

}  // namespace herald::bench
