// SPDX-License-Identifier: Apache-2.0
#pragma once
// A raw WebSocket test client (header-only): a blocking loopback socket that completes the
// upgrade and then writes whatever bytes a test builds (client_frame: masked frames, also
// ones a library would refuse to send) and reads raw bytes back. For hostile-client tests:
// floods, clients that stop reading (small SO_RCVBUF), malformed close frames. Used from one
// test thread. Invariant: every read gives up after 10 s (SO_RCVTIMEO), so a test never hangs.

#include <sys/socket.h>
#include <sys/time.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

namespace herald::testing {

/// A masked client frame (RFC 6455 section 5.3), FIN set, opcode `opcode`, any payload size.
inline std::string client_frame(uint8_t opcode, const std::string& payload) {
  const uint8_t mask[4] = {0x11, 0x22, 0x33, 0x44};
  std::string f;
  f.push_back(static_cast<char>(0x80 | opcode));
  size_t n = payload.size();
  if (n < 126) {
    f.push_back(static_cast<char>(0x80 | n));
  } else if (n <= 0xffff) {
    f.push_back(static_cast<char>(0x80 | 126));
    f.push_back(static_cast<char>(n >> 8));
    f.push_back(static_cast<char>(n & 0xff));
  } else {
    f.push_back(static_cast<char>(0x80 | 127));
    for (int i = 7; i >= 0; --i) {
      f.push_back(static_cast<char>((static_cast<uint64_t>(n) >> (8 * i)) & 0xff));
    }
  }
  f.append(reinterpret_cast<const char*>(mask), 4);
  for (size_t i = 0; i < n; ++i) {
    f.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
  }
  return f;
}

/// The first two bytes of a close payload: `code` in network order.
inline std::string close_payload(uint16_t code) {
  return std::string{static_cast<char>(code >> 8), static_cast<char>(code & 0xff)};
}

/// One server frame parsed from raw bytes (unmasked, as a server sends them).
struct server_frame {
  uint8_t opcode = 0;
  std::string payload;
};

/// Splits `bytes` into whole server frames; false if they do not end on a frame boundary or
/// a frame is masked (then `out` holds the frames before the fault).
inline bool parse_server_frames(const std::string& bytes, std::vector<server_frame>& out) {
  size_t at = 0;
  while (at < bytes.size()) {
    if (bytes.size() - at < 2) {
      return false;
    }
    auto b0 = static_cast<uint8_t>(bytes[at]);
    auto b1 = static_cast<uint8_t>(bytes[at + 1]);
    if ((b1 & 0x80) != 0) {
      return false;
    }
    uint64_t len = b1 & 0x7f;
    size_t header = 2;
    if (len == 126 || len == 127) {
      size_t ext = len == 126 ? 2 : 8;
      if (bytes.size() - at < 2 + ext) {
        return false;
      }
      len = 0;
      for (size_t i = 0; i < ext; ++i) {
        len = (len << 8) | static_cast<uint8_t>(bytes[at + 2 + i]);
      }
      header += ext;
    }
    if (bytes.size() - at - header < len) {
      return false;
    }
    out.push_back(server_frame{static_cast<uint8_t>(b0 & 0x0f), bytes.substr(at + header, len)});
    at += header + len;
  }
  return true;
}

/// An upgraded raw connection to 127.0.0.1:port; `rcvbuf` > 0 shrinks the client's receive
/// buffer before connecting (the server's writes then back up after a few KiB).
struct raw_ws {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket sock{ioc};

  explicit raw_ws(uint16_t port, int rcvbuf = 0, const std::string& target = "/?v=10") {
    namespace asio = boost::asio;
    sock.open(asio::ip::tcp::v4());
    if (rcvbuf > 0) {
      setsockopt(sock.native_handle(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    }
    timeval tv{10, 0};
    setsockopt(sock.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sock.connect({asio::ip::make_address("127.0.0.1"), port});
    std::string req = "GET " + target +
                      " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      "Sec-WebSocket-Version: 13\r\n\r\n";
    asio::write(sock, asio::buffer(req));
    std::string got;
    char c;
    while (got.find("\r\n\r\n") == std::string::npos) {
      if (asio::read(sock, asio::buffer(&c, 1)) != 1) {
        throw std::runtime_error("no upgrade response");
      }
      got.push_back(c);
    }
    if (got.rfind("HTTP/1.1 101", 0) != 0) {
      throw std::runtime_error("upgrade refused: " + got);
    }
  }
  void write(const std::string& bytes) { boost::asio::write(sock, boost::asio::buffer(bytes)); }
  /// As write(), but a failure (the server closed the connection) returns false.
  bool try_write(const std::string& bytes) {
    boost::system::error_code ec;
    boost::asio::write(sock, boost::asio::buffer(bytes), ec);
    return !ec;
  }
  /// Reads everything until the server closes (or 10 s pass without a byte); the raw bytes.
  std::string read_to_end() {
    std::string got;
    char buf[4096];
    for (;;) {
      boost::system::error_code ec;
      size_t n = sock.read_some(boost::asio::buffer(buf), ec);
      if (ec) {
        return got;
      }
      got.append(buf, n);
    }
  }
};

}  // namespace herald::testing
