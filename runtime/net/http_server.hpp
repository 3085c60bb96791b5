// SPDX-License-Identifier: Apache-2.0
#pragma once
// A small HTTP/1.1 server on Boost.Beast with a route table (method + path -> handler),
// keep-alive and a request body limit. It owns its io_context and runs it on its own
// thread(s), beside CAF's scheduler; handlers run on those threads.
// Invariant: every request gets exactly one response and is counted once in
// herald_http_requests_total{server,code}; after stop() returns no handler runs.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace herald::net {

namespace detail {
struct http_server_state;
}  // namespace detail

using header_list = std::vector<std::pair<std::string, std::string>>;

/// A request as handlers see it; the body is fully read (within the limit).
struct http_request {
  std::string method;  ///< upper case, e.g. "GET"
  std::string target;  ///< as sent, e.g. "/v1/status?x=1"
  std::string path;    ///< target without the query, e.g. "/v1/status"
  std::string query;   ///< text after '?', empty if none
  header_list headers;
  std::string body;

  /// Value of the first header named `name` (case-insensitive), or "".
  std::string header(std::string_view name) const;
};

/// What a handler returns. Content-Length, Connection and Server are added by the server.
struct http_response {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  header_list headers;  ///< extra headers, e.g. {"Cache-Control", "no-store"}
};

/// Runs on a server thread; must not block for long. An exception becomes a 500.
using http_handler = std::function<http_response(const http_request&)>;

struct server_options {
  std::string name = "http";     ///< the `server` label of the request metrics
  std::string host = "127.0.0.1";
  uint16_t port = 0;             ///< 0 picks a free port; see http_server::port()
  size_t body_limit = 1 << 20;   ///< larger request bodies get 413 (default 1 MiB)
  size_t threads = 1;            ///< io threads running handlers
  std::chrono::seconds idle_timeout{60};  ///< idle keep-alive connections are closed after this
};

class http_server {
public:
  explicit http_server(server_options opts);
  ~http_server();  ///< calls stop()
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// Adds a route. Call before start(); throws std::logic_error afterwards or on a duplicate.
  /// Unknown paths get 404; known paths with another method get 405 with an Allow header.
  void route(std::string method, std::string path, http_handler handler);

  /// Binds, listens and starts the io threads. Returns the bind/listen error, if any.
  std::error_code start();

  /// The bound port (the chosen one if options.port was 0); 0 before start().
  uint16_t port() const noexcept;

  /// Stops accepting, closes every connection and joins the io threads.
  /// Idempotent; must not be called from a handler.
  void stop();

  const server_options& options() const noexcept;

private:
  std::shared_ptr<detail::http_server_state> impl_;
};

/// Reason phrase for a status code ("Not Found").
std::string_view reason_phrase(unsigned status);

}  // namespace herald::net
