// SPDX-License-Identifier: Apache-2.0
#pragma once
// A blocking Discord Gateway v10 test client on Boost.Beast (header-only): connects to a
// herald gateway on loopback, identifies or resumes, reads frames with timeouts, checks
// that dispatch `s` is gapless, inflates compress=zlib-stream. Used from one test thread.
// Invariant: every read waits at most its timeout; a close is reported with its code.

#include <zlib.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

namespace herald::testing {

class gateway_client {
public:
  using json = nlohmann::json;

  /// Connects and completes the WebSocket handshake on 127.0.0.1:port with `target`.
  /// `receive_buffer` > 0 sets SO_RCVBUF before connecting (a small one makes a client
  /// that stops reading back-pressure the server quickly: slow-consumer tests).
  explicit gateway_client(uint16_t port, std::string target = "/?v=10&encoding=json",
                          int receive_buffer = 0)
      : gateway_client("127.0.0.1", port, std::move(target), receive_buffer) {}
  /// The same on `host` (an IPv4 address), e.g. a node inside a network namespace.
  gateway_client(const std::string& host, uint16_t port,
                 std::string target = "/?v=10&encoding=json", int receive_buffer = 0)
      : ws_(ioc_) {
    namespace net = boost::asio;
    auto& sock = boost::beast::get_lowest_layer(ws_).socket();
    sock.open(net::ip::tcp::v4());
    if (receive_buffer > 0) {
      sock.set_option(net::socket_base::receive_buffer_size(receive_buffer));
    }
    sock.connect(net::ip::tcp::endpoint(net::ip::make_address(host), port));
    ws_.read_message_max(64u << 20);
    ws_.handshake(host + ":" + std::to_string(port), target);
    zlib_ = target.find("compress=zlib-stream") != std::string::npos;
    if (zlib_) {
      inflate_.zalloc = Z_NULL;
      inflate_.zfree = Z_NULL;
      inflate_.opaque = Z_NULL;
      if (inflateInit(&inflate_) != Z_OK) {
        throw std::runtime_error("inflateInit failed");
      }
    }
  }
  ~gateway_client() {
    if (zlib_) {
      inflateEnd(&inflate_);
    }
    boost::system::error_code ec;
    boost::beast::get_lowest_layer(ws_).socket().close(ec);
  }
  gateway_client(const gateway_client&) = delete;
  gateway_client& operator=(const gateway_client&) = delete;

  // -- sending ------------------------------------------------------------------------

  void send(const json& frame) { send_text(frame.dump()); }
  void send_text(std::string_view text) {
    ws_.text(true);
    ws_.write(boost::asio::buffer(text.data(), text.size()));
  }
  void send_binary(std::string_view bytes) {
    ws_.binary(true);
    ws_.write(boost::asio::buffer(bytes.data(), bytes.size()));
  }
  void heartbeat() { send({{"op", 1}, {"d", last_seq_ ? json(last_seq_) : json(nullptr)}}); }
  void identify(const std::string& token, uint32_t intents = 33281,
                std::optional<std::pair<int, int>> shard = std::nullopt) {
    json d = {
        {"token", token},
        {"intents", intents},
        {"properties", {{"os", "linux"}, {"browser", "herald-test"}, {"device", "herald-test"}}}};
    if (shard) {
      d["shard"] = {shard->first, shard->second};
    }
    send({{"op", 2}, {"d", d}});
  }
  void resume(const std::string& token, const std::string& session_id, uint64_t seq) {
    send({{"op", 6}, {"d", {{"token", token}, {"session_id", session_id}, {"seq", seq}}}});
  }
  /// Closing handshake with `code` (waits for the server's close frame).
  void close(uint16_t code = 1000) {
    boost::system::error_code ec;
    ws_.close(boost::beast::websocket::close_reason(code), ec);
    closed_ = true;
  }
  /// Drops the TCP connection without a close frame (the server sees 1006).
  void drop() {
    boost::system::error_code ec;
    boost::beast::get_lowest_layer(ws_).socket().shutdown(
        boost::asio::ip::tcp::socket::shutdown_both, ec);
    boost::beast::get_lowest_layer(ws_).socket().close(ec);
    closed_ = true;
  }

  // -- receiving ----------------------------------------------------------------------

  /// The next frame, parsed; nullopt on close (see close_code()) or timeout (timed_out()).
  /// Dispatch frames must continue the seq by exactly one (seq_errors() otherwise).
  std::optional<json> next(std::chrono::milliseconds timeout = std::chrono::seconds{10}) {
    auto text = read_message(timeout);
    if (!text) {
      return std::nullopt;
    }
    json frame = json::parse(*text);
    if (frame.value("op", -1) == 0) {
      auto s = frame.at("s").get<uint64_t>();
      if (last_seq_ != 0 && s != last_seq_ + 1) {
        seq_errors_.push_back("s " + std::to_string(s) + " after " + std::to_string(last_seq_));
      }
      last_seq_ = s;
      if (frame.at("t") == "READY") {
        session_id_ = frame.at("d").at("session_id").get<std::string>();
      }
    }
    frames_.push_back(frame);
    return frame;
  }
  /// Reads until a frame with op `op` (and type `t` if given) arrives; nullopt on close/timeout.
  std::optional<json> next_op(int op, const std::string& t = {},
                              std::chrono::milliseconds timeout = std::chrono::seconds{10}) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        timed_out_ = true;
        return std::nullopt;
      }
      auto f = next(left);
      if (!f) {
        return std::nullopt;
      }
      if ((*f)["op"] == op && (t.empty() || ((*f)["t"].is_string() && (*f)["t"] == t))) {
        return f;
      }
    }
  }
  /// Reads (and keeps) frames until the server closes; the close code, or nullopt on timeout.
  std::optional<uint16_t> wait_close(std::chrono::milliseconds timeout = std::chrono::seconds{10}) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!close_code_) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || timed_out_) {
        return std::nullopt;
      }
      if (!next(left) && timed_out_) {
        return std::nullopt;
      }
      if (closed_ && !close_code_) {
        return std::nullopt;
      }
    }
    return close_code_;
  }
  /// Hello, Identify, then READY and `guilds` GUILD_CREATEs; returns READY.
  json login(const std::string& token, size_t guilds, uint32_t intents = 33281) {
    auto hello = next();
    if (!hello || (*hello)["op"] != 10) {
      throw std::runtime_error("no Hello");
    }
    identify(token, intents);
    auto ready = next_op(0, "READY");
    if (!ready) {
      throw std::runtime_error("no READY");
    }
    for (size_t i = 0; i < guilds; ++i) {
      if (!next_op(0, "GUILD_CREATE")) {
        throw std::runtime_error("missing GUILD_CREATE");
      }
    }
    return *ready;
  }

  const std::vector<json>& frames() const { return frames_; }
  uint64_t last_seq() const { return last_seq_; }
  void set_last_seq(uint64_t s) { last_seq_ = s; }
  const std::string& session_id() const { return session_id_; }
  const std::vector<std::string>& seq_errors() const { return seq_errors_; }
  std::optional<uint16_t> close_code() const { return close_code_; }
  bool timed_out() const { return timed_out_; }
  /// Binary messages seen (compress=zlib-stream sends every message as binary).
  size_t binary_messages() const { return binary_messages_; }

private:
  std::optional<std::string> read_message(std::chrono::milliseconds timeout) {
    if (closed_) {
      return std::nullopt;
    }
    buffer_.clear();
    bool done = false;
    boost::system::error_code ec;
    ws_.async_read(buffer_, [&](boost::system::error_code e, size_t) {
      ec = e;
      done = true;
    });
    ioc_.restart();
    ioc_.run_for(timeout);
    if (!done) {
      timed_out_ = true;
      closed_ = true;  // a cancelled Beast read leaves the stream unusable
      boost::system::error_code ignored;
      boost::beast::get_lowest_layer(ws_).socket().cancel(ignored);
      ioc_.restart();
      ioc_.run_for(std::chrono::seconds{1});
      return std::nullopt;
    }
    if (ec) {
      closed_ = true;
      if (ec == boost::beast::websocket::error::closed) {
        close_code_ = static_cast<uint16_t>(ws_.reason().code);
      }
      return std::nullopt;
    }
    std::string bytes = boost::beast::buffers_to_string(buffer_.data());
    if (ws_.got_binary()) {
      ++binary_messages_;
      if (!zlib_) {
        throw std::runtime_error("binary message without compress=zlib-stream");
      }
      return inflate_message(bytes);
    }
    return bytes;
  }

  std::string inflate_message(const std::string& in) {
    if (in.size() < 4 || in.compare(in.size() - 4, 4, std::string("\x00\x00\xff\xff", 4)) != 0) {
      throw std::runtime_error("zlib-stream message without the 00 00 ff ff suffix");
    }
    std::string out;
    inflate_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    inflate_.avail_in = static_cast<uInt>(in.size());
    char chunk[16384];
    do {
      inflate_.next_out = reinterpret_cast<Bytef*>(chunk);
      inflate_.avail_out = sizeof(chunk);
      int rc = inflate(&inflate_, Z_SYNC_FLUSH);
      if (rc != Z_OK && rc != Z_BUF_ERROR) {
        throw std::runtime_error("inflate failed");
      }
      out.append(chunk, sizeof(chunk) - inflate_.avail_out);
    } while (inflate_.avail_out == 0);
    return out;
  }

  boost::asio::io_context ioc_;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  boost::beast::flat_buffer buffer_;
  bool zlib_ = false;
  z_stream inflate_{};
  bool closed_ = false;
  bool timed_out_ = false;
  std::optional<uint16_t> close_code_;
  uint64_t last_seq_ = 0;
  std::string session_id_;
  std::vector<std::string> seq_errors_;
  std::vector<json> frames_;
  size_t binary_messages_ = 0;
};

}  // namespace herald::testing
