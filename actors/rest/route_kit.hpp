// SPDX-License-Identifier: Apache-2.0
#pragma once
// What every REST route shares, core and feature routes alike: mounting under /api/v9 and
// /api/v10 with the draining 503, authentication, the per-user rate limit (one bucket per user
// across every route), offloading to a short-lived CAF actor, the request counter and the
// Discord error shapes; plus the helpers handlers use (path ids, JSON bodies, the channel's
// permissions). Handlers (work_fn) run in that offloaded actor and may block on the store.
// Invariant: every request gets exactly one response, counted once in
// herald_rest_requests_total{route,status}.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/dispatch/commands.hpp"
#include "actors/domain/guild_state.hpp"
#include "actors/rest/rest_api.hpp"
#include "runtime/net/http_server.hpp"

namespace herald::rest {

/// What a handler gets once the request passed draining, auth and the rate limit. Holds
/// copies: the request object is only valid during the io thread's call.
struct call {
  std::shared_ptr<rest_context> ctx;
  uint64_t user_id = 0;  ///< the authenticated user (0 on routes without auth)
  std::string body;
  std::string query;
  std::vector<std::pair<std::string, std::string>> params;  ///< as sent, not percent-decoded
  net::header_list rate_headers;  ///< X-RateLimit-* to add to the response
  net::http_responder respond;

  /// The path parameter `name`, "" if absent.
  std::string param(const std::string& name) const;
  /// Answers with `r` plus the rate-limit headers. Call exactly once.
  void reply(net::http_response r) const;
};

using work_fn = std::function<void(const call&)>;

/// Mounts `work` at `suffix` (a pattern, e.g. "/channels/{channel_id}") under /api/v9 and
/// /api/v10 for `method`. While draining: 503 with Retry-After. With `needs_auth`: 401 without a
/// valid token, 429 past the user's budget (ctx->limiter, which must be set: mount_routes makes
/// it). `work` runs in a fresh CAF actor; an exception it throws answers 500.
void mount(net::http_server& server, const std::shared_ptr<rest_context>& ctx,
           const std::string& method, const std::string& suffix, bool needs_auth, work_fn work);

/// The path parameter `name` as a snowflake; nullopt for anything else.
std::optional<uint64_t> id_param(const call& c, const std::string& name);

/// A query parameter's raw value ("limit" in "limit=5&after=7" → "5"); "" when absent.
std::string query_value(const std::string& query, const std::string& name);

/// The query parameter `name` as a count in 1..max, or `fallback` when absent; otherwise the
/// 400 50035 (NUMBER_TYPE_MAX) response to send.
std::optional<net::http_response> limit_param(const call& c, const std::string& name, size_t max,
                                              size_t fallback, size_t& out);

/// Percent-decodes a path segment ("%F0%9F%91%8D" → "👍"); nullopt on a malformed escape.
std::optional<std::string> percent_decoded(const std::string& segment);

/// 400 50035 "Value \"x\" is not snowflake." (Discord's NUMBER_TYPE_COERCE).
net::http_response bad_snowflake(const std::string& value);

/// 400 50035 with `errors` naming `field` ({"field":{"_errors":[{code,message}]}}).
net::http_response form_error(const std::string& field, const std::string& code,
                              const std::string& message);

/// Parses the body as a JSON object (empty body: {}). On anything else: 400 50109
/// "The request body contains invalid JSON.", returned for the handler to send.
std::optional<net::http_response> parse_json_object(const call& c, nlohmann::json& out);

/// The answer to a failed command or publish (dispatch::client_error_of).
net::http_response from_error(const caf::error& err);

/// A channel's guild state as the store has it, and the user's permissions there.
struct channel_scope {
  std::optional<domain::guild_state> state;
  const domain::channel* channel = nullptr;
  uint64_t perms = 0;
};

/// Loads the channel's guild and checks the user may VIEW it. Not ordered with the guild's
/// events: for reads only (writes are checked by the guild, see custom_dispatch). Returns the
/// error response (404 10003, 403 50001, 503) or nullopt with `out` filled.
std::optional<net::http_response> load_channel(const call& c, uint64_t channel_id,
                                               channel_scope& out);

/// Whether the user may act on a message, from the store's view (not ordered with the guild),
/// in Discord's order: the channel (404 10003), membership and VIEW_CHANNEL (403 50001), the
/// message exists there (404 10008), every bit of `needs` (403 50013). For answers a feature
/// gives without asking the guild (a repeat that changes nothing), so they refuse as the
/// guild's check would; changes are checked by the guild (custom_dispatch). nullopt: allowed.
std::optional<net::http_response> may_act_on_message(const call& c, uint64_t channel_id,
                                                     uint64_t message_id, uint64_t needs);

}  // namespace herald::rest
