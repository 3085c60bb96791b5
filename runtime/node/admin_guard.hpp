// SPDX-License-Identifier: Apache-2.0
#pragma once
// The admin API's request filter: every path except the configured open endpoints needs an
// accepted Host header (defeats DNS rebinding), `Authorization: Bearer <admin token>` (defeats
// CSRF and other local users) and, for a request with a body, `Content-Type: application/json`
// (a browser cannot send that cross-origin without a CORS preflight, which is never granted).
// Runs on the admin server's io thread; its state is immutable after construction.
// Invariant: a refused request reaches no route handler, gets the admin request error body
// (request_error.hpp: {"error": "...", "code": "..."}) and
// is counted once in herald_admin_auth_failures_total{reason}.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/net/http_server.hpp"

namespace herald::node {

struct admin_guard_options {
  std::string token;                       ///< the admin token (admin_token.hpp)
  bool require_token = true;               ///< admin.require_token
  std::string listen_host;                 ///< admin.listen's host, bare (no IPv6 brackets)
  std::function<uint16_t()> bound_port;    ///< the admin server's bound port (after start)
  std::vector<std::string> allowed_hosts;  ///< admin.allowed_hosts: `name` or `name:port`
  std::vector<std::string> open_paths;     ///< admin.open_endpoints: served with no checks
};

/// True for 127.0.0.0/8, ::1 and `localhost`.
bool is_loopback_host(std::string_view host);

/// True for the wildcard addresses 0.0.0.0 and ::.
bool is_wildcard_host(std::string_view host);

/// The filter for the admin http_server (set_filter). Refusals: 421 for a Host not accepted,
/// 401 (with `WWW-Authenticate: Bearer`) for a missing or wrong token, 415 for a body that is
/// not application/json. Accepted Host values: the listen address with the bound port; when
/// listening on loopback or a wildcard also `localhost`, `127.0.0.1` and `[::1]` with that
/// port; each allowed_hosts entry (`name` means `name:<bound port>`). Case-insensitive.
net::http_filter make_admin_guard(admin_guard_options opts);

}  // namespace herald::node
