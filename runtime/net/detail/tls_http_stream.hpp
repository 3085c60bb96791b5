// SPDX-License-Identifier: Apache-2.0
#pragma once
// An Asio AsyncReadStream/AsyncWriteStream over a tls_channel on a non-blocking TCP socket,
// so that Beast's HTTP parser and serializer run unchanged on TLS connections. Each
// operation calls OpenSSL directly and waits for socket readiness only when OpenSSL asks
// for it (want_read / want_write): io-thread handlers never block.
// Owned by one HTTP session and used on its strand only. After a WebSocket upgrade,
// release() hands the socket and the TLS session to the WebSocket stream.
// Why not asio::ssl::stream: it feeds OpenSSL through a BIO pair and keeps two 17 KiB
// buffers per connection for its whole life, and its SSL session cannot be moved to the
// WebSocket stream, whose reads and gathered writes talk to OpenSSL directly.

#include <cstring>
#include <memory>
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/error.hpp>

#include "runtime/net/detail/tls_channel.hpp"

namespace herald::net::detail {

/// Largest TLS record payload; also the per-thread gather buffer of encrypted writes.
constexpr size_t tls_record_bytes = 16 * 1024;

class tls_http_stream {
public:
  using executor_type = boost::asio::ip::tcp::socket::executor_type;

  /// `ctx`: a reference from tls_context::acquire(), taken over.
  tls_http_stream(boost::asio::ip::tcp::socket socket, ssl_ctx_st* ctx)
      : socket_(std::move(socket)) {
    boost::system::error_code ignored;
    socket_.non_blocking(true, ignored);
    tls_ = std::make_unique<tls_channel>(ctx, socket_.native_handle());
  }

  executor_type get_executor() noexcept { return socket_.get_executor(); }
  boost::asio::ip::tcp::socket& socket() noexcept { return socket_; }
  tls_channel& channel() noexcept { return *tls_; }

  /// The session's deadline passed: pending and later operations end with beast timeout.
  void expire() {
    timed_out_ = true;
    boost::system::error_code ignored;
    socket_.cancel(ignored);
  }
  /// A new deadline was armed (the previous one had not passed).
  void renew() noexcept { timed_out_ = false; }

  /// Server handshake; completes with void(error_code).
  template <class Handler>
  auto async_handshake(Handler&& handler) {
    return boost::asio::async_compose<Handler, void(boost::system::error_code)>(handshake_op{this},
                                                                                handler, socket_);
  }

  template <class MutableBuffers, class Handler>
  auto async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    return boost::asio::async_compose<Handler, void(boost::system::error_code, size_t)>(
        io_op<MutableBuffers, true>{this, buffers}, handler, socket_);
  }

  template <class ConstBuffers, class Handler>
  auto async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    return boost::asio::async_compose<Handler, void(boost::system::error_code, size_t)>(
        io_op<ConstBuffers, false>{this, buffers}, handler, socket_);
  }

  /// Hands the socket and the TLS session over (for the WebSocket stream).
  std::pair<boost::asio::ip::tcp::socket, std::unique_ptr<tls_channel>> release() {
    return {std::move(socket_), std::move(tls_)};
  }

private:
  // Runs one step; returns true when the operation completed.
  template <class Self>
  bool wait_for(tls_status st, Self& self) {
    using boost::asio::ip::tcp;
    if (st == tls_status::want_read) {
      socket_.async_wait(tcp::socket::wait_read, std::move(self));
      return true;
    }
    if (st == tls_status::want_write) {
      socket_.async_wait(tcp::socket::wait_write, std::move(self));
      return true;
    }
    return false;
  }

  boost::system::error_code error_of(tls_status st) const {
    if (timed_out_) {
      return boost::beast::error::timeout;
    }
    if (st == tls_status::closed) {
      return boost::asio::error::eof;
    }
    return boost::asio::error::connection_reset;
  }

  struct handshake_op {
    tls_http_stream* s;
    bool posted = false;
    template <class Self>
    void operator()(Self& self, boost::system::error_code ec = {}) {
      if (!posted) {
        // Never complete inside the initiating call (Asio's contract).
        posted = true;
        return boost::asio::post(s->socket_.get_executor(), std::move(self));
      }
      if (ec || s->timed_out_) {
        return self.complete(s->timed_out_ ? boost::beast::error::timeout : ec);
      }
      tls_status st = s->tls_->handshake();
      if (st == tls_status::ok) {
        return self.complete({});
      }
      if (!s->wait_for(st, self)) {
        self.complete(s->error_of(st));
      }
    }
  };

  template <class Buffers, bool Read>
  struct io_op {
    tls_http_stream* s;
    Buffers buffers;
    bool posted = false;
    template <class Self>
    void operator()(Self& self, boost::system::error_code ec = {}) {
      if (!posted) {
        posted = true;
        return boost::asio::post(s->socket_.get_executor(), std::move(self));
      }
      if (ec || s->timed_out_) {
        return self.complete(s->timed_out_ ? boost::beast::error::timeout : ec, 0);
      }
      if (boost::asio::buffer_size(buffers) == 0) {
        return self.complete({}, 0);
      }
      size_t n = 0;
      tls_status st;
      if constexpr (Read) {
        // The parser's buffer is one contiguous region (flat_buffer): read into the first.
        boost::asio::mutable_buffer b;
        for (auto it = boost::asio::buffer_sequence_begin(buffers);
             it != boost::asio::buffer_sequence_end(buffers) && b.size() == 0; ++it) {
          b = *it;
        }
        st = s->tls_->read(static_cast<char*>(b.data()), b.size(), n);
      } else {
        // Gather the serializer's pieces into one record; a retry after want_write
        // re-gathers the same bytes (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER).
        thread_local char gather[tls_record_bytes];
        size_t len = boost::asio::buffer_copy(boost::asio::buffer(gather), buffers);
        st = s->tls_->write(gather, len, n);
      }
      if (st == tls_status::ok) {
        return self.complete({}, n);
      }
      if (!s->wait_for(st, self)) {
        self.complete(s->error_of(st), 0);
      }
    }
  };

  boost::asio::ip::tcp::socket socket_;
  std::unique_ptr<tls_channel> tls_;
  bool timed_out_ = false;
};

}  // namespace herald::net::detail
