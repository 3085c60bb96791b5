// SPDX-License-Identifier: Apache-2.0
#pragma once
// The Discord-compatible REST API v10 (docs/gateway.md, "REST") mounted on a net::http_server.
// Owned by the node composition; handlers run as async routes: io threads only copy the
// request and answer draining 503s; authentication, rate limiting and the work (store reads,
// publishes) run in short-lived CAF actors, which answer through the responder.
// Invariant: every response is JSON (Content-Type application/json) except 204s, and every
// error body is {"message":…, "code":…} with Discord's status and code.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/rest/message_decorator.hpp"
#include "actors/rest/rate_limiter.hpp"
#include "actors/services/services.hpp"
#include "runtime/net/http_server.hpp"

namespace herald::rest {

/// GET /gateway/bot's session_start_limit: the user's Identify budget as the gateway enforces
/// it (Discord's field names; reset_after in milliseconds).
/// The default is the unlimited budget (no limit enforced): a total of 2^31-1.
struct session_start_limit {
  static constexpr uint64_t unlimited = (uint64_t{1} << 31) - 1;
  uint64_t total = unlimited;
  uint64_t remaining = unlimited;
  int64_t reset_after_ms = 0;
  uint32_t max_concurrency = 1;
};

struct rest_context {
  dispatch::services_ptr svc;
  /// Token (the Authorization header's value: "Bot <t>", "Bearer <t>" or bare) → user id.
  std::function<std::optional<uint64_t>(std::string_view)> authenticate;
  /// What GET /gateway and /gateway/bot return as `url`, e.g. "ws://127.0.0.1:8080".
  std::string gateway_url;
  /// While true every route answers 503 with Retry-After (graceful drain). May be null.
  std::atomic<bool>* draining = nullptr;
  /// Retry-After of the draining 503.
  int drain_retry_after_s = 5;
  /// Per-user request budget (see rate_limiter.hpp for the defaults).
  rate_limit_options rate_limit;
  /// How long a command may wait for its guild before answering 503.
  std::chrono::milliseconds command_timeout{5000};
  /// Shards GET /gateway/bot recommends.
  uint32_t shards = 1;
  /// The user's Identify budget (the node wires the gateway's). Null: the gateway limits
  /// nothing (session_start_limit's defaults).
  std::function<session_start_limit(uint64_t user_id)> identify_budget;
  /// Made by mount_routes from rate_limit when null; shared by every route.
  std::shared_ptr<rate_limiter> limiter;
  /// Features' fields of message objects (message_decorator.hpp), asked by the GET message
  /// routes. Filled before the server starts (feature::feature_set::mount), read-only after.
  std::vector<message_decorator> decorators;
};

/// API versions served under /api/v<N>: 9 and 10 (their REST shapes are the same here).
/// Routes (each also under /api/v9):
///   GET    /api/v10/gateway                              (no auth)
///   GET    /api/v10/gateway/bot
///   GET    /api/v10/users/@me
///   GET    /api/v10/users/@me/guilds
///   GET    /api/v10/channels/{channel_id}
///   GET    /api/v10/channels/{channel_id}/messages       (?limit=1..100&before=ID)
///   POST   /api/v10/channels/{channel_id}/messages       {"content", "nonce"?, "tts"?}
///   GET    /api/v10/channels/{channel_id}/messages/{message_id}
///   PATCH  /api/v10/channels/{channel_id}/messages/{message_id}  {"content"}
///   DELETE /api/v10/channels/{channel_id}/messages/{message_id}  → 204
///   POST   /api/v10/channels/{channel_id}/typing         → 204, TYPING_START
/// Metrics: herald_rest_requests_total{route,status}, herald_rest_rate_limited_total.
void mount_routes(net::http_server& server, std::shared_ptr<rest_context> ctx);

}  // namespace herald::rest
