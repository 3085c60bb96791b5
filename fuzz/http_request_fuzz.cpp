// SPDX-License-Identifier: Apache-2.0
// Fuzz target: HTTP/1.1 request parsing as http_server's connections do it: Beast's
// request_parser configured by net::detail::configure_request_parser (the server's header
// and body limits) and read with http::read from a stream whose reads return the bytes in
// pieces, request after request while the connection stays keep-alive.
// Input: byte 0 picks the body limit (bit 0: 1 MiB, the default, or 64 bytes) and the read
// size (bits 1-7: 1..128 bytes per read_some); the rest is what the client sent.
// Checks, besides the sanitizers: a parsed body never exceeds the body limit, a parsed
// request line plus fields never exceed the header limit, and every error the read reports
// is one the server maps to a status or to closing the connection.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>

#include "runtime/net/detail/http_request_parser.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

/// A SyncReadStream over the fuzz input: each read_some returns at most `piece` bytes, then
/// end of file, as a TCP peer that sent the bytes and shut down its side.
class piecewise_stream {
public:
  using executor_type = asio::any_io_executor;

  piecewise_stream(const char* data, size_t size, size_t piece)
      : data_(data), left_(size), piece_(piece) {}

  template <class MutableBufferSequence>
  size_t read_some(const MutableBufferSequence& buffers, beast::error_code& ec) {
    if (left_ == 0) {
      ec = asio::error::eof;
      return 0;
    }
    ec = {};
    size_t n = asio::buffer_copy(buffers, asio::buffer(data_, std::min(left_, piece_)));
    data_ += n;
    left_ -= n;
    return n;
  }
  template <class MutableBufferSequence>
  size_t read_some(const MutableBufferSequence& buffers) {
    beast::error_code ec;
    size_t n = read_some(buffers, ec);
    if (ec) {
      throw beast::system_error{ec};
    }
    return n;
  }

  bool exhausted() const noexcept { return left_ == 0; }

private:
  const char* data_;
  size_t left_;
  size_t piece_;
};

/// The server answers these (413, 431, 400) or closes; anything else from the parser is a
/// protocol error it closes on too, so this only guards against a non-HTTP error category.
bool expected_error(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::end_of_stream).category() ||
         ec == asio::error::eof;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) {
    return 0;
  }
  size_t body_limit = (data[0] & 1) != 0 ? 64 : size_t{1} << 20;
  size_t piece = static_cast<size_t>(data[0] >> 1) + 1;
  piecewise_stream stream{reinterpret_cast<const char*>(data + 1), size - 1, piece};
  beast::flat_buffer buffer;
  // Pipelined requests on one keep-alive connection, as session::do_read loops.
  for (int request = 0; request < 64; ++request) {
    herald::net::detail::request_parser parser;
    herald::net::detail::configure_request_parser(parser, body_limit);
    beast::error_code ec;
    http::read(stream, buffer, parser, ec);
    if (ec) {
      if (!expected_error(ec)) {
        std::abort();
      }
      return 0;
    }
    auto req = parser.release();
    if (req.body().size() > body_limit) {
      std::abort();  // the 413 limit let a larger body through
    }
    size_t header_bytes = req.method_string().size() + req.target().size();
    for (const auto& field : req) {
      header_bytes += field.name_string().size() + field.value().size();
    }
    if (header_bytes > herald::net::detail::request_header_limit) {
      std::abort();  // the 431 limit let larger header fields through
    }
    // The server hands an upgraded connection to the WebSocket reader and stops parsing
    // HTTP; a request without keep-alive is answered and the connection closed.
    if (!req.keep_alive() || req.count(http::field::upgrade) != 0) {
      return 0;
    }
  }
  return 0;
}
