// SPDX-License-Identifier: Apache-2.0
#pragma once
// Raw HTTP over a loopback socket, for the tests that must send what no HTTP client library
// would (smuggling, framing, limits, malformed upgrades and frames): a blocking connection
// whose reads give up after a timeout, a write-then-read-to-close exchange, the RFC 6455
// sample upgrade request, and run_bounded for the async clients (TLS, Beast WebSocket).
// Used from the test thread only; one io_context per connection or client.
// Invariant: every read and every bounded operation returns within its timeout, so a server
// that never answers fails a test instead of hanging it.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

namespace herald::testing {

/// A WebSocket upgrade of GET /?v=10 with RFC 6455's sample key (its accept value is
/// "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), ending the head.
extern const std::string ws_upgrade_request;

struct raw_options {
  std::string from = "127.0.0.1";  ///< local address (any 127.0.0.0/8 address is loopback)
  int receive_buffer = 0;          ///< > 0: SO_RCVBUF set before connecting
  std::chrono::seconds read_timeout{10};
};

/// A connected loopback socket; the test writes bytes and reads what comes back.
class raw_connection {
public:
  explicit raw_connection(uint16_t port, const raw_options& opts = {});

  void write(std::string_view bytes);
  /// Reads one byte at a time up to the end of a response head ("\r\n\r\n"), so no byte after
  /// it (a body, WebSocket frames) is consumed; returns what was read (short on close/timeout).
  std::string read_head();
  /// read_head, then the body its Content-Length announces (none without one); returns both.
  std::string read_response();
  /// Reads until the server closes the connection or the read timeout; returns all read.
  std::string read_to_end();

  boost::asio::ip::tcp::socket& socket() { return sock_; }

private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket sock_{io_};
};

/// Connects to 127.0.0.1:port, writes `bytes` (if any) and returns everything read until the
/// server closes (or `read_timeout` of silence).
std::string raw_exchange(uint16_t port, std::string_view bytes,
                         std::chrono::seconds read_timeout = std::chrono::seconds{10});

/// Runs one async operation on `io` for at most `timeout`: `start(handler)` starts it with a
/// handler taking (error_code, ...). On timeout closes `lowest` (the socket under the stream),
/// lets the aborted operation finish and returns timed_out.
template <class Lowest, class Start>
boost::system::error_code run_bounded(boost::asio::io_context& io, Lowest& lowest, Start start,
                                      std::chrono::seconds timeout = std::chrono::seconds{10}) {
  boost::system::error_code ec;
  bool done = false;
  start([&](boost::system::error_code e, auto&&...) {
    ec = e;
    done = true;
  });
  io.restart();
  io.run_for(timeout);
  if (!done) {
    boost::system::error_code ignored;
    lowest.close(ignored);
    io.restart();
    io.run();
    return boost::asio::error::timed_out;
  }
  return ec;
}

/// Reads from the async stream `stream` (TCP or TLS, on `io`; `lowest` its socket) until a read
/// fails, each read bounded by run_bounded; returns all read, `ended` says why it stopped
/// (eof or a reset when the server closed, timed_out when it kept silent).
template <class Stream, class Lowest>
std::string read_until_error(boost::asio::io_context& io, Stream& stream, Lowest& lowest,
                             boost::system::error_code& ended) {
  std::string got;
  char buf[4096];
  for (;;) {
    size_t n = 0;
    ended = run_bounded(io, lowest, [&](auto h) {
      stream.async_read_some(boost::asio::buffer(buf),
                             [&n, h](boost::system::error_code e, size_t k) mutable {
                               n = k;
                               h(e);
                             });
    });
    if (ended) {
      return got;
    }
    got.append(buf, n);
  }
}

}  // namespace herald::testing
