// SPDX-License-Identifier: Apache-2.0
#pragma once
// The node's Discord Gateway v10 endpoint: takes upgraded WebSocket connections from
// http_server::on_websocket and runs one gateway_connection per client. One per node,
// thread-safe; connections run on the http_server's io threads (their strands).
// Invariant: every accepted connection is counted in connections() until its socket ended.
//
// Metrics (global registry): herald_gateway_connections (gauge),
// herald_gateway_identifies_total, herald_gateway_resumes_total{result=ok|failed},
// herald_gateway_closes_total{code} (server-sent close codes),
// herald_gateway_inbound_errors_total{kind} (close_codes.hpp inbound_error names),
// herald_gateway_frames_sent_total, herald_gateway_frames_received_total.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "actors/gateway/gateway_options.hpp"
#include "actors/services/services.hpp"
#include "runtime/net/websocket.hpp"

namespace herald::gateway {

namespace detail {
struct gateway_context;
}

class gateway_server {
public:
  /// Maps an Identify/Resume token (without "Bot ") to its user id; nullopt refuses it
  /// (close 4004). Called on an io thread: must be quick and must not block on actors.
  using authenticator = std::function<std::optional<uint64_t>(std::string_view token)>;

  gateway_server(dispatch::services_ptr svc, gateway_options opts, authenticator authenticate);
  /// Connections still open keep running until their sockets end (the http_server owns them);
  /// stop the http_server first for a clean shutdown.
  ~gateway_server();
  gateway_server(const gateway_server&) = delete;
  gateway_server& operator=(const gateway_server&) = delete;

  /// Runs the gateway protocol on `conn` (Hello first). Call from http_server::on_websocket.
  /// While draining, the connection gets Hello then op 7 at once and is closed.
  void accept(net::ws_connection_ptr conn);

  /// Graceful drain: op 7 Reconnect to every connection, then (after
  /// gateway_options::drain_close_delay) close 4000, leaving each session resumable.
  /// Non-blocking; later accepts are drained as they arrive.
  void drain();

  /// A paced drain's step (a node drain, `heraldctl drain`): op 7 Reconnect, then close 4000
  /// after gateway_options::drain_close_delay, to at most `max` connections not told yet;
  /// returns how many it told. Does not refuse new connections (the caller's front door does).
  /// Non-blocking; any thread.
  size_t drain_some(size_t max);

  /// Every connection authenticated as `user_id` is closed with 4004 and its session ended
  /// (call after the user's tokens were revoked). Non-blocking.
  void revoke_user(uint64_t user_id);

  /// The Identify budget of `user_id` now (GET /gateway/bot's session_start_limit). Any thread.
  identify_budget identify_budget_of(uint64_t user_id) const;

  /// Live connections (accepted, socket not yet ended).
  size_t connections() const;

  const gateway_options& options() const;

private:
  std::shared_ptr<detail::gateway_context> ctx_;
};

}  // namespace herald::gateway
