// SPDX-License-Identifier: Apache-2.0
#pragma once
// The admin API's request error and its one writer (docs/conventions.md#errors): every refusal
// of the admin guard (admin_guard.cpp) and every failure of a control route
// (actors/admin/ctl_routes.cpp) is a request_error answered through error_response(). Plain value
// and a pure function; any thread.
// Invariant: an admin error body is exactly {"error": <message>, "code": <code>}, valid JSON
// (the message is escaped), with Content-Type application/json and Cache-Control: no-store.

#include <string>

#include "runtime/net/http_server.hpp"

namespace herald::node {

/// One failed admin request. `code` is a stable snake_case name of the failure that scripts may
/// test (the list is in docs/operations.md, "Admin API"); `message` is for people (heraldctl
/// prints it).
struct request_error {
  unsigned status = 500;
  std::string code = "internal";
  std::string message;
};

/// The admin API's answer to `e`.
net::http_response error_response(const request_error& e);

}  // namespace herald::node
