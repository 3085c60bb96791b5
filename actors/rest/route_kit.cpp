// SPDX-License-Identifier: Apache-2.0
// The shared route machinery: per request, the draining check on the io thread, then
// authentication, the rate limit and the work in a short-lived CAF actor that answers through
// the responder.
#include "actors/rest/route_kit.hpp"

#include <algorithm>
#include <cstdlib>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

#include "actors/domain/permission_bits.hpp"
#include "actors/domain/snowflake.hpp"
#include "actors/permissions/permissions.hpp"
#include "actors/rest/responses.hpp"
#include "runtime/metrics/limit_refusals.hpp"
#include "runtime/metrics/metrics.hpp"

namespace herald::rest {

namespace {

using json = nlohmann::json;

metrics::counter& requests_counter(const std::string& route, unsigned status) {
  return metrics::registry::global().get_counter(
      "herald_rest_requests_total", "REST API requests by route and status",
      {{"route", route}, {"status", std::to_string(status)}});
}

metrics::counter& rate_limited_counter() {
  return metrics::registry::global().get_counter("herald_rest_rate_limited_total",
                                                 "REST API requests refused with 429");
}

metrics::counter& global_limit_refusals() {
  static metrics::counter& c = metrics::limit_refusal_counter("rest_global");
  return c;
}

/// Runs `fn` in a fresh CAF actor (a worker thread may block on the store; io threads not).
void offload(const std::shared_ptr<rest_context>& ctx, std::function<void()> fn) {
  ctx->svc->system.spawn([fn = std::move(fn)](caf::event_based_actor*) { fn(); });
}

/// Authenticates and rate-limits `c`; answers 401 or 429 itself and returns false then.
bool admit(const std::string& authorization, call& c) {
  const auto& ctx = c.ctx;
  std::optional<uint64_t> user;
  if (!authorization.empty() && ctx->authenticate) {
    user = ctx->authenticate(authorization);
  }
  if (!user) {
    c.respond(unauthorized());
    return false;
  }
  c.user_id = *user;
  auto decision = ctx->limiter->take(*user);
  rate_limiter::add_headers(decision, c.rate_headers);
  if (!decision.allowed) {
    rate_limited_counter().inc();
    global_limit_refusals().inc();
    // The user's one bucket spans every route: Discord's global limit, so `global: true`
    // (clients then pause every request of this token, not one route).
    json body{{"message", "You are being rate limited."},
              {"retry_after", decision.retry_after_s},
              {"global", true},
              {"code", 0}};
    c.reply(json_response(429, body));
    return false;
  }
  return true;
}

int hex_value(char ch) {
  if (ch >= '0' && ch <= '9') {
    return ch - '0';
  }
  if (ch >= 'a' && ch <= 'f') {
    return ch - 'a' + 10;
  }
  if (ch >= 'A' && ch <= 'F') {
    return ch - 'A' + 10;
  }
  return -1;
}

}  // namespace

std::string call::param(const std::string& name) const {
  for (const auto& [k, v] : params) {
    if (k == name) {
      return v;
    }
  }
  return {};
}

void call::reply(net::http_response r) const {
  r.headers.insert(r.headers.end(), rate_headers.begin(), rate_headers.end());
  respond(std::move(r));
}

void mount(net::http_server& server, const std::shared_ptr<rest_context>& ctx,
           const std::string& method, const std::string& suffix, bool needs_auth, work_fn work) {
  const std::string route_label = method + " " + suffix;
  auto handler = [ctx, route_label, needs_auth, work](const net::http_request& req,
                                                      net::http_responder respond) {
    // Count every answer once, whatever thread gives it.
    net::http_responder counted = [route_label, respond](net::http_response r) {
      requests_counter(route_label, r.status).inc();
      respond(std::move(r));
    };
    if (ctx->draining != nullptr && ctx->draining->load()) {
      counted(unavailable(ctx->drain_retry_after_s));
      return;
    }
    call c;
    c.ctx = ctx;
    c.respond = std::move(counted);
    c.body = req.body;
    c.query = req.query;
    c.params = req.params;
    std::string authorization = needs_auth ? req.header("Authorization") : std::string{};
    // Authentication may read the store (a user's token epoch, first time only): like the
    // work itself it runs in an actor, so an io thread never waits behind a commit.
    offload(ctx, [work, needs_auth, authorization = std::move(authorization),
                  c = std::move(c)]() mutable {
      if (needs_auth && !admit(authorization, c)) {
        return;
      }
      try {
        work(c);
      } catch (const std::exception&) {
        c.reply(error_response(500, 0, "500: Internal Server Error"));
      }
    });
  };
  for (const char* version : {"/api/v9", "/api/v10"}) {
    server.route_async(method, version + suffix, handler);
  }
}

std::optional<uint64_t> id_param(const call& c, const std::string& name) {
  return domain::parse_snowflake(c.param(name));
}

std::string query_value(const std::string& query, const std::string& name) {
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t end = std::min(query.find('&', pos), query.size());
    auto part = query.substr(pos, end - pos);
    auto eq = part.find('=');
    if (part.substr(0, eq) == name) {
      return eq == std::string::npos ? std::string{} : part.substr(eq + 1);
    }
    pos = end + 1;
  }
  return {};
}

std::optional<std::string> percent_decoded(const std::string& segment) {
  std::string out;
  out.reserve(segment.size());
  for (size_t i = 0; i < segment.size(); ++i) {
    if (segment[i] != '%') {
      out.push_back(segment[i]);
      continue;
    }
    if (i + 2 >= segment.size()) {
      return std::nullopt;
    }
    int hi = hex_value(segment[i + 1]);
    int lo = hex_value(segment[i + 2]);
    if (hi < 0 || lo < 0) {
      return std::nullopt;
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

net::http_response bad_snowflake(const std::string& value) {
  json errors = {
      {"_errors", json::array({{{"code", "NUMBER_TYPE_COERCE"},
                                {"message", "Value \"" + value + "\" is not snowflake."}}})}};
  return error_response(400, 50035, "Invalid Form Body", &errors);
}

net::http_response form_error(const std::string& field, const std::string& code,
                              const std::string& message) {
  json errors = {{field, {{"_errors", json::array({{{"code", code}, {"message", message}}})}}}};
  return error_response(400, 50035, "Invalid Form Body", &errors);
}

std::optional<net::http_response> parse_json_object(const call& c, json& out) {
  if (c.body.empty()) {
    out = json::object();
    return std::nullopt;
  }
  out = json::parse(c.body, nullptr, false);
  if (out.is_discarded() || !out.is_object()) {
    return error_response(400, 50109, "The request body contains invalid JSON.");
  }
  return std::nullopt;
}

net::http_response from_error(const caf::error& err) {
  return from_client_error(dispatch::client_error_of(err));
}

std::optional<net::http_response> load_channel(const call& c, uint64_t channel_id,
                                               channel_scope& out) {
  auto& svc = c.ctx->svc;
  auto guild_id = dispatch::guild_of_channel(svc, channel_id);
  if (!guild_id) {
    return from_client_error(dispatch::client_error_of(guild_id.error()));
  }
  auto state = svc->store->load_guild(*guild_id);
  if (!state) {
    return from_client_error({503, 0, "503: Service Unavailable", 1});
  }
  out.state.emplace(std::move(state).value());
  out.channel = out.state->find_channel(channel_id);
  if (out.channel == nullptr) {
    return error_response(404, 10003, "Unknown Channel");
  }
  if (out.state->find_member(c.user_id) == nullptr) {
    return error_response(403, 50001, "Missing Access");
  }
  out.perms = permissions::channel_permissions(*out.state, channel_id, c.user_id);
  if (!permissions::has(out.perms, permissions::view_channel)) {
    return error_response(403, 50001, "Missing Access");
  }
  return std::nullopt;
}

std::optional<net::http_response> limit_param(const call& c, const std::string& name, size_t max,
                                              size_t fallback, size_t& out) {
  out = fallback;
  auto text = query_value(c.query, name);
  if (text.empty()) {
    return std::nullopt;
  }
  char* end = nullptr;
  long v = std::strtol(text.c_str(), &end, 10);
  if (end == nullptr || *end != '\0' || v < 1 || static_cast<unsigned long>(v) > max) {
    return form_error(name, "NUMBER_TYPE_MAX",
                      "Must be between 1 and " + std::to_string(max) + ".");
  }
  out = static_cast<size_t>(v);
  return std::nullopt;
}

std::optional<net::http_response> may_act_on_message(const call& c, uint64_t channel_id,
                                                     uint64_t message_id, uint64_t needs) {
  channel_scope scope;
  if (auto refused = load_channel(c, channel_id, scope)) {
    return refused;
  }
  auto msg = c.ctx->svc->store->get_message(message_id);
  if (!msg || msg.value().deleted_ || msg.value().channel_id_ != channel_id) {
    return error_response(404, 10008, "Unknown Message");
  }
  if (!permissions::has(scope.perms, needs)) {
    return error_response(403, 50013, "Missing Permissions");
  }
  return std::nullopt;
}

}  // namespace herald::rest
