// SPDX-License-Identifier: Apache-2.0
#pragma once
// A small HTTP/1.1 server on Boost.Beast with a route table (method + path pattern ->
// handler, sync or async), a request filter, keep-alive, a request body limit and WebSocket
// upgrades (websocket.hpp). It owns its io_context and runs it on its own thread(s), beside
// CAF's scheduler; handlers run on those threads.
// Invariant: every request gets exactly one response and is counted once in
// herald_http_requests_total{server,code}; after stop() returns no handler runs.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "runtime/net/tls_context.hpp"
#include "runtime/net/ws_options.hpp"

namespace herald::net {

class ws_connection;
using ws_connection_ptr = std::shared_ptr<ws_connection>;  // see websocket.hpp

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
  /// Values of the route pattern's `{name}` segments, in pattern order, as sent (not
  /// percent-decoded). Empty for literal routes and in the filter (it runs before routing).
  std::vector<std::pair<std::string, std::string>> params;

  /// Value of the first header named `name` (case-insensitive), or "".
  std::string header(std::string_view name) const;
  /// Value of the path parameter `name`, or "" if the route has no such segment.
  std::string param(std::string_view name) const;
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

/// Answers one async request. Call it exactly once, from any thread; the response is written
/// on the connection's strand (later calls are ignored). If every copy is destroyed without
/// a call, the client gets 500. After stop() the call is a no-op.
using http_responder = std::function<void(http_response)>;

/// Runs on a server thread and must return quickly; answers later through the responder.
/// The request reference is valid during the call only (copy what you need). An exception
/// thrown before the responder was called becomes a 500.
using http_async_handler = std::function<void(const http_request&, http_responder)>;

/// Runs before routing for every request, upgrades included (no params yet); a response
/// short-circuits (e.g. 503 while draining), nullopt continues. An exception becomes a 500.
using http_filter = std::function<std::optional<http_response>(const http_request&)>;

/// Receives each upgraded WebSocket connection on an io thread (the connection's strand);
/// call ws_connection::start() to begin reading.
using websocket_acceptor = std::function<void(ws_connection_ptr)>;

struct server_options {
  std::string name = "http";  ///< the `server` label of the request metrics
  std::string host = "127.0.0.1";
  uint16_t port = 0;                      ///< 0 picks a free port; see http_server::port()
  size_t body_limit = 1 << 20;            ///< larger request bodies get 413 (default 1 MiB)
  size_t threads = 1;                     ///< io threads running handlers and WebSocket connections
  std::chrono::seconds idle_timeout{60};  ///< idle keep-alive connections are closed after this
  ws_options websocket;                   ///< limits of upgraded connections (ws_options.hpp)
  /// Open connections (HTTP and upgraded WebSocket alike) allowed at once; 0: no limit. One
  /// beyond it gets, once its request is read, 503 with Retry-After and is closed; counted in
  /// herald_net_connections_refused_total{server,reason="max_connections"}.
  size_t max_connections = 0;
  /// The same per client IP address (reason "max_connections_per_ip"); 0: no limit.
  size_t max_connections_per_ip = 0;
  /// When accept fails for lack of descriptors (EMFILE, ENFILE, ...), the listener closes its
  /// spare descriptor to accept what waits: true serves one connection with it (keeps the
  /// admin API reachable), false refuses the waiting connections (a 503 line, then closed)
  /// so that their clients are not left hanging. Either way it then waits (1 ms doubling to
  /// 100 ms) before accepting again, instead of spinning.
  bool serve_on_spare_descriptor = false;
  /// Set: the listener speaks only TLS (HTTPS and wss on the same port); every connection
  /// handshakes with the context current when it was accepted (tls_context::reload()).
  /// Null: plain HTTP and ws.
  tls_context_ptr tls;
  /// A TLS client that has not completed its handshake by then is dropped (counted).
  std::chrono::seconds tls_handshake_timeout{10};
};

/// Why a listener may not take more clients; read by readiness checks, from any thread.
struct listener_health {
  size_t open_connections = 0;  ///< connections counted against max_connections
  bool at_max_connections = false;
  /// "EMFILE", "ENFILE", "ENOBUFS" or "ENOMEM" if an accept failed so in the last 5 s, else "".
  std::string accept_failing;
};

class http_server {
public:
  explicit http_server(server_options opts);
  ~http_server();  ///< calls stop()
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// Adds a route. Call before start(); throws std::logic_error afterwards or on a duplicate.
  /// Unknown paths get 404; known paths with another method get 405 with an Allow header.
  /// `path` is a pattern: segments are literal or `{name}`, which matches one non-empty
  /// segment and becomes http_request::params. When several patterns match, the most
  /// specific wins (at the first differing segment a literal beats `{name}`).
  void route(std::string method, std::string path, http_handler handler);

  /// Like route() but the handler answers later through an http_responder.
  void route_async(std::string method, std::string pattern, http_async_handler handler);

  /// Installs the request filter (see http_filter). Call before start().
  void set_filter(http_filter filter);

  /// Accepts WebSocket upgrades: a GET with `Upgrade: websocket` on ANY path and query is
  /// answered 101 (RFC 6455, version 13) and handed to `acceptor`; a bad upgrade request is
  /// 400; without an acceptor an upgrade gets 404. The filter runs first. Call before start().
  void on_websocket(websocket_acceptor acceptor);

  /// Binds, listens and starts the io threads. Returns the bind/listen error, if any.
  std::error_code start();

  /// The bound port (the chosen one if options.port was 0); 0 before start().
  uint16_t port() const noexcept;

  /// Stops accepting, closes every connection (WebSockets with 1001, waiting at most their
  /// close_timeout for the peer's close frame) and joins the io threads.
  /// Idempotent; must not be called from a handler.
  void stop();

  const server_options& options() const noexcept;

  /// The listener's load and accept failures (see listener_health); any thread.
  listener_health health() const;

private:
  std::shared_ptr<detail::http_server_state> impl_;
};

/// Reason phrase for a status code ("Not Found").
std::string_view reason_phrase(unsigned status);

}  // namespace herald::net
