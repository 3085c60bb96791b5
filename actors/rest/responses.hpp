// SPDX-License-Identifier: Apache-2.0
#pragma once
// Building REST responses: JSON bodies, Discord error bodies, the common headers.
// Pure functions; any thread.
// Invariant: every response built here carries Content-Type application/json (204: none).

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "actors/dispatch/commands.hpp"
#include "runtime/net/http_server.hpp"

namespace herald::rest {

inline constexpr const char* json_type = "application/json";

net::http_response json_response(unsigned status, std::string body);
net::http_response json_response(unsigned status, const nlohmann::json& body);

/// {"message":…, "code":…} (and `errors` when given, as Discord's 50035 has).
net::http_response error_response(unsigned status, int code, const std::string& message,
                                  const nlohmann::json* errors = nullptr);

/// 401 {"message":"401: Unauthorized","code":0}
net::http_response unauthorized();

/// 503 {"message":"503: Service Unavailable","code":0} with Retry-After.
net::http_response unavailable(int retry_after_s);

/// The response of a failed command (dispatch::client_error_of).
net::http_response from_client_error(const dispatch::client_error& e);

/// 204 without a body or content type (Discord's answer to DELETE; clients that see
/// application/json try to parse the empty body).
net::http_response no_content();

}  // namespace herald::rest
