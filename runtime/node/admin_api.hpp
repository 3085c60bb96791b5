// SPDX-License-Identifier: Apache-2.0
#pragma once
// The admin HTTP API of a node: GET /healthz, /readyz, /metrics and /v1/status, mounted
// on a net::http_server. Handlers run on the admin server's io thread.
// Invariant: /healthz answers 200 while the process serves HTTP; /readyz answers 200 only
// while the node is started, not draining, and admin_context::not_ready_reason gives none. The
// node puts the admin guard (admin_guard.hpp) in front of every route: /v1/* needs the admin
// token, an accepted Host and JSON bodies.

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "runtime/net/http_server.hpp"
#include "runtime/node/status.hpp"

namespace herald::node {

/// What the admin routes read. Owned by the node; must outlive the server.
struct admin_context {
  /// True once the root supervision tree has started; false again when draining or when
  /// the root supervisor has exited. Shared with the root's exit hook, which may outlive a request.
  std::shared_ptr<std::atomic<bool>> ready = std::make_shared<std::atomic<bool>>(false);
  /// Builds the status document; runs on the admin io thread, must not block on actors.
  std::function<node_status()> status;
  /// Optional: while ready, a returned reason makes /readyz 503 with it. Admin io thread.
  std::function<std::optional<std::string>()> not_ready_reason;
};

/// Mounts /healthz, /readyz, /metrics (Prometheus text 0.0.4 of metrics::registry::global())
/// and /v1/status (node_status JSON). Later admin endpoints (e.g. POST /v1/users) are added
/// beside these with http_server::route.
void add_admin_routes(net::http_server& server, admin_context& ctx);

}  // namespace herald::node
