// SPDX-License-Identifier: Apache-2.0
#include "test/support/raw_http.hpp"

#include <sys/socket.h>
#include <sys/time.h>

#include <cctype>
#include <cstdlib>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

namespace herald::testing {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

const std::string ws_upgrade_request =
    "GET /?v=10 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

raw_connection::raw_connection(uint16_t port, const raw_options& opts) {
  sock_.open(tcp::v4());
  if (opts.receive_buffer > 0) {
    setsockopt(sock_.native_handle(), SOL_SOCKET, SO_RCVBUF, &opts.receive_buffer,
               sizeof opts.receive_buffer);
  }
  timeval tv{static_cast<time_t>(opts.read_timeout.count()), 0};
  setsockopt(sock_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (opts.from != "127.0.0.1") {
    sock_.bind({asio::ip::make_address(opts.from), 0});
  }
  sock_.connect({asio::ip::make_address("127.0.0.1"), port});
}

void raw_connection::write(std::string_view bytes) {
  asio::write(sock_, asio::buffer(bytes.data(), bytes.size()));
}

std::string raw_connection::read_head() {
  std::string got;
  char c = 0;
  while (got.find("\r\n\r\n") == std::string::npos) {
    boost::system::error_code ec;
    if (sock_.read_some(asio::buffer(&c, 1), ec) != 1 || ec) {
      break;
    }
    got.push_back(c);
  }
  return got;
}

std::string raw_connection::read_response() {
  std::string got = read_head();
  std::string lower;
  for (char c : got) {
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  auto at = lower.find("\r\ncontent-length:");
  if (at == std::string::npos) {
    return got;
  }
  size_t length = std::strtoul(got.c_str() + at + 17, nullptr, 10);
  std::string body(length, '\0');
  boost::system::error_code ec;
  size_t n = asio::read(sock_, asio::buffer(body), ec);
  body.resize(n);
  return got + body;
}

std::string raw_connection::read_to_end() {
  std::string got;
  char buf[4096];
  for (;;) {
    boost::system::error_code ec;
    size_t n = sock_.read_some(asio::buffer(buf), ec);
    if (ec) {
      return got;
    }
    got.append(buf, n);
  }
}

std::string raw_exchange(uint16_t port, std::string_view bytes, std::chrono::seconds read_timeout) {
  raw_options opts;
  opts.read_timeout = read_timeout;
  raw_connection c{port, opts};
  if (!bytes.empty()) {
    c.write(bytes);
  }
  return c.read_to_end();
}

}  // namespace herald::testing
