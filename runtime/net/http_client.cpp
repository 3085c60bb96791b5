// SPDX-License-Identifier: Apache-2.0
#include "runtime/net/http_client.hpp"

#include <cctype>
#include <optional>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace herald::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct http_client::impl {
  std::string host;
  uint16_t port;
  std::chrono::milliseconds timeout;
  asio::io_context ioc;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;

  // Runs the io_context until `done` or the deadline; an unfinished operation is
  // cancelled by closing the stream and reported as timed_out.
  void run_until(const bool& done, beast::error_code& ec) {
    ioc.restart();
    ioc.run_for(timeout);
    if (!done) {
      stream->close();
      ioc.restart();
      ioc.run_for(std::chrono::seconds{1});
      ec = asio::error::timed_out;
    }
  }

  beast::error_code connect() {
    beast::error_code ec;
    tcp::resolver resolver{ioc};
    auto results = resolver.resolve(host, std::to_string(port), ec);
    if (ec) {
      return ec;
    }
    stream.emplace(ioc);
    bool done = false;
    stream->async_connect(results, [&](beast::error_code e, const tcp::endpoint&) {
      ec = e;
      done = true;
    });
    run_until(done, ec);
    return ec;
  }
};

http_client::http_client(std::string host, uint16_t port, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<impl>()) {
  impl_->host = std::move(host);
  impl_->port = port;
  impl_->timeout = timeout;
}

http_client::~http_client() = default;

bool http_client::connected() const noexcept {
  return impl_->stream.has_value() && impl_->stream->socket().is_open();
}

client_response http_client::request(const std::string& method, const std::string& target,
                                     const std::string& body, const std::string& content_type,
                                     const header_list& headers) {
  client_response out;
  auto& im = *impl_;
  if (!connected()) {
    if (auto ec = im.connect()) {
      im.stream.reset();
      out.error = ec;
      return out;
    }
  }
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, im.host + ":" + std::to_string(im.port));
  req.set(http::field::user_agent, "herald/" HERALD_VERSION);
  if (!body.empty()) {
    req.set(http::field::content_type, content_type);
  }
  for (const auto& [name, value] : headers) {
    req.set(name, value);
  }
  req.body() = body;
  req.keep_alive(true);
  req.prepare_payload();

  http::response<http::string_body> res;
  beast::error_code ec;
  bool done = false;
  http::async_write(*im.stream, req, [&](beast::error_code e, size_t) {
    if (e) {
      ec = e;
      done = true;
      return;
    }
    http::async_read(*im.stream, im.buffer, res, [&](beast::error_code e2, size_t) {
      ec = e2;
      done = true;
    });
  });
  im.run_until(done, ec);
  if (ec) {
    im.stream.reset();
    out.error = ec;
    return out;
  }
  out.status = res.result_int();
  out.content_type = std::string{res[http::field::content_type]};
  out.body = std::move(res.body());
  out.keep_alive = res.keep_alive();
  if (!out.keep_alive) {
    beast::error_code ignored;
    im.stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
    im.stream.reset();
  }
  return out;
}

client_response http_fetch(const std::string& host, uint16_t port, const std::string& method,
                           const std::string& target, const std::string& body,
                           std::chrono::milliseconds timeout, const header_list& headers) {
  http_client c{host, port, timeout};
  return c.request(method, target, body, "application/json", headers);
}

std::string describe(const std::error_code& ec) {
  if (ec == std::errc::timed_out) {
    return "timed out";
  }
  std::string m = ec.message();
  if (!m.empty()) {
    m[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(m[0])));
  }
  return m;
}

}  // namespace herald::net
