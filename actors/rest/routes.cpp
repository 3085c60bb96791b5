// SPDX-License-Identifier: Apache-2.0
// The REST routes: per request, draining → auth → rate limit on the io thread, then the work
// (store reads, commands) in a short-lived CAF actor that answers through the responder.
#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/dispatch/commands.hpp"
#include "actors/domain/snowflake.hpp"
#include "actors/guild/encode.hpp"
#include "actors/permissions/bits.hpp"
#include "actors/permissions/permissions.hpp"
#include "actors/rest/bodies.hpp"
#include "actors/rest/responses.hpp"
#include "actors/rest/rest_api.hpp"
#include "runtime/metrics/metrics.hpp"

namespace herald::rest {

namespace {

using json = nlohmann::json;
using dispatch::client_error;

/// What a handler gets once the request passed draining, auth and the rate limit. Holds
/// copies: the request object is only valid during the io thread's call.
struct call {
  std::shared_ptr<rest_context> ctx;
  uint64_t user_id = 0;
  std::string body;
  std::string query;
  std::vector<std::pair<std::string, std::string>> params;
  net::header_list rate_headers;  ///< X-RateLimit-* to add to the response
  net::http_responder respond;

  std::string param(const std::string& name) const {
    for (const auto& [k, v] : params) {
      if (k == name) {
        return v;
      }
    }
    return {};
  }
  void reply(net::http_response r) const {
    r.headers.insert(r.headers.end(), rate_headers.begin(), rate_headers.end());
    respond(std::move(r));
  }
};

using work_fn = std::function<void(const call&)>;

metrics::counter& requests_counter(const std::string& route, unsigned status) {
  return metrics::registry::global().get_counter(
      "herald_rest_requests_total", "REST API requests by route and status",
      {{"route", route}, {"status", std::to_string(status)}});
}

metrics::counter& rate_limited_counter() {
  return metrics::registry::global().get_counter("herald_rest_rate_limited_total",
                                                 "REST API requests refused with 429");
}

/// Runs `fn` in a fresh CAF actor (a worker thread may block on the store; io threads not).
void offload(const std::shared_ptr<rest_context>& ctx, std::function<void()> fn) {
  ctx->svc->system.spawn([fn = std::move(fn)](caf::event_based_actor*) { fn(); });
}

/// Parses a path id; nullopt for anything that is not a snowflake.
std::optional<uint64_t> id_param(const call& c, const std::string& name) {
  return domain::parse_snowflake(c.param(name));
}

net::http_response bad_snowflake(const std::string& value) {
  json errors = {
      {"_errors", json::array({{{"code", "NUMBER_TYPE_COERCE"},
                                {"message", "Value \"" + value + "\" is not snowflake."}}})}};
  return error_response(400, 50035, "Invalid Form Body", &errors);
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
    json body{{"message", "You are being rate limited."},
              {"retry_after", decision.retry_after_s},
              {"global", false},
              {"code", 0}};
    c.reply(json_response(429, body));
    return false;
  }
  return true;
}

/// Mounts `work` at `suffix` under /api/v9 and /api/v10.
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

// -- helpers of the handlers (they run in offloaded actors) ------------------------------

/// The channel's guild state, or the error response to send.
struct channel_scope {
  std::optional<domain::guild_state> state;
  const domain::channel* channel = nullptr;
  permissions::bits perms = 0;
};

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

net::http_response form_error(const std::string& field, const std::string& code,
                              const std::string& message) {
  json errors = {{field, {{"_errors", json::array({{{"code", code}, {"message", message}}})}}}};
  return error_response(400, 50035, "Invalid Form Body", &errors);
}

net::http_response body_error_response(const body_error& e) {
  return error_response(e.status, e.code, e.message, e.errors ? &*e.errors : nullptr);
}

/// A query parameter's value, "" when absent.
std::string query_value(const std::string& query, const std::string& name) {
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t end = query.find('&', pos);
    if (end == std::string::npos) {
      end = query.size();
    }
    auto part = query.substr(pos, end - pos);
    auto eq = part.find('=');
    if (part.substr(0, eq) == name) {
      return eq == std::string::npos ? std::string{} : part.substr(eq + 1);
    }
    pos = end + 1;
  }
  return {};
}

dispatch::command_callback reply_with_message(call c, unsigned status = 200) {
  return [c = std::move(c), status](caf::expected<dispatch::command_result> r) {
    if (!r) {
      c.reply(from_client_error(dispatch::client_error_of(r.error())));
      return;
    }
    if (status == 204) {
      c.reply(no_content());
      return;
    }
    c.reply(json_response(status, std::move(r->json)));
  };
}

// -- handlers ----------------------------------------------------------------------------

json gateway_object(const rest_context& ctx) {
  return json{{"url", ctx.gateway_url}};
}

void get_gateway(const call& c) {
  c.reply(json_response(200, gateway_object(*c.ctx)));
}

void get_gateway_bot(const call& c) {
  auto body = gateway_object(*c.ctx);
  body["shards"] = c.ctx->shards;
  // herald does not limit identifies per day; report a full, generous budget.
  body["session_start_limit"] = {
      {"total", 1000}, {"remaining", 1000}, {"reset_after", 86400000}, {"max_concurrency", 1}};
  c.reply(json_response(200, body));
}

void get_me(const call& c) {
  auto who = c.ctx->svc->store->get_user(c.user_id);
  if (!who) {
    c.reply(unauthorized());  // a valid token of a user the store no longer has
    return;
  }
  auto body = json::parse(guild::encode_user(who.value()));
  body["bot"] = who.value().bot_;
  body["system"] = false;
  body["flags"] = 0;
  body["mfa_enabled"] = false;
  body["verified"] = true;
  body["email"] = nullptr;
  body["locale"] = "en-US";
  body["premium_type"] = 0;
  body["banner"] = nullptr;
  body["accent_color"] = nullptr;
  c.reply(json_response(200, body));
}

void get_my_guilds(const call& c) {
  auto& st = *c.ctx->svc->store;
  auto ids = st.guilds_of_user(c.user_id);
  if (!ids) {
    c.reply(from_client_error({503, 0, "503: Service Unavailable", 1}));
    return;
  }
  json out = json::array();
  for (auto id : ids.value()) {
    auto state = st.load_guild(id);
    if (!state) {
      continue;
    }
    const auto& gs = state.value();
    const auto* m = gs.find_member(c.user_id);
    if (m == nullptr) {
      continue;
    }
    out.push_back({{"id", domain::format_snowflake(id)},
                   {"name", gs.info().name_},
                   {"icon", nullptr},
                   {"banner", nullptr},
                   {"owner", gs.info().owner_id_ == c.user_id},
                   {"permissions", std::to_string(permissions::base_permissions(gs, *m))},
                   {"features", json::array()}});
  }
  c.reply(json_response(200, out));
}

void get_channel(const call& c) {
  auto channel_id = id_param(c, "channel_id");
  if (!channel_id) {
    c.reply(bad_snowflake(c.param("channel_id")));
    return;
  }
  channel_scope scope;
  if (auto err = load_channel(c, *channel_id, scope)) {
    c.reply(std::move(*err));
    return;
  }
  c.reply(json_response(200, guild::encode_channel(*scope.channel)));
}

void get_messages(const call& c) {
  auto channel_id = id_param(c, "channel_id");
  if (!channel_id) {
    c.reply(bad_snowflake(c.param("channel_id")));
    return;
  }
  size_t limit = 50;
  auto limit_text = query_value(c.query, "limit");
  if (!limit_text.empty()) {
    char* end = nullptr;
    long v = std::strtol(limit_text.c_str(), &end, 10);
    if (end == nullptr || *end != '\0' || v < 1 || v > 100) {
      c.reply(form_error("limit", "NUMBER_TYPE_MAX", "Must be between 1 and 100."));
      return;
    }
    limit = static_cast<size_t>(v);
  }
  uint64_t before = 0;
  auto before_text = query_value(c.query, "before");
  if (!before_text.empty()) {
    auto parsed = domain::parse_snowflake(before_text);
    if (!parsed) {
      c.reply(bad_snowflake(before_text));
      return;
    }
    before = *parsed;
  }
  channel_scope scope;
  if (auto err = load_channel(c, *channel_id, scope)) {
    c.reply(std::move(*err));
    return;
  }
  if (!permissions::has(scope.perms, permissions::read_message_history)) {
    c.reply(json_response(200, std::string{"[]"}));  // Discord: no history without the bit
    return;
  }
  auto messages = c.ctx->svc->store->recent_messages(*channel_id, limit, before);
  if (!messages) {
    c.reply(from_client_error({503, 0, "503: Service Unavailable", 1}));
    return;
  }
  std::string out = "[";
  for (const auto& m : messages.value()) {
    if (out.size() > 1) {
      out.push_back(',');
    }
    out += guild::encode_message(*scope.state, m);
  }
  out.push_back(']');
  c.reply(json_response(200, std::move(out)));
}

void get_message(const call& c) {
  auto channel_id = id_param(c, "channel_id");
  auto message_id = id_param(c, "message_id");
  if (!channel_id || !message_id) {
    c.reply(bad_snowflake(!channel_id ? c.param("channel_id") : c.param("message_id")));
    return;
  }
  channel_scope scope;
  if (auto err = load_channel(c, *channel_id, scope)) {
    c.reply(std::move(*err));
    return;
  }
  if (!permissions::has(scope.perms, permissions::read_message_history)) {
    c.reply(error_response(403, 50001, "Missing Access"));
    return;
  }
  auto msg = c.ctx->svc->store->get_message(*message_id);
  if (!msg || msg.value().deleted_ || msg.value().channel_id_ != *channel_id) {
    c.reply(error_response(404, 10008, "Unknown Message"));
    return;
  }
  c.reply(json_response(200, guild::encode_message(*scope.state, msg.value())));
}

void post_message(const call& c) {
  auto channel_id = id_param(c, "channel_id");
  if (!channel_id) {
    c.reply(bad_snowflake(c.param("channel_id")));
    return;
  }
  auto body = parse_message_create(c.body);
  if (auto* err = std::get_if<body_error>(&body)) {
    c.reply(body_error_response(*err));
    return;
  }
  auto& fields = std::get<message_create_body>(body);
  dispatch::post_message_args args;
  args.channel_id = *channel_id;
  args.author_id = c.user_id;
  args.content = std::move(fields.content);
  args.nonce = std::move(fields.nonce);
  args.tts = fields.tts;
  dispatch::post_message(c.ctx->svc, std::move(args), c.ctx->command_timeout,
                         reply_with_message(c));
}

void patch_message(const call& c) {
  auto channel_id = id_param(c, "channel_id");
  auto message_id = id_param(c, "message_id");
  if (!channel_id || !message_id) {
    c.reply(bad_snowflake(!channel_id ? c.param("channel_id") : c.param("message_id")));
    return;
  }
  auto body = parse_message_edit(c.body);
  if (auto* err = std::get_if<body_error>(&body)) {
    c.reply(body_error_response(*err));
    return;
  }
  auto content = std::move(std::get<message_edit_body>(body).content);
  dispatch::edit_message(c.ctx->svc, *channel_id, *message_id, c.user_id, std::move(content),
                         c.ctx->command_timeout, reply_with_message(c));
}

void delete_message(const call& c) {
  auto channel_id = id_param(c, "channel_id");
  auto message_id = id_param(c, "message_id");
  if (!channel_id || !message_id) {
    c.reply(bad_snowflake(!channel_id ? c.param("channel_id") : c.param("message_id")));
    return;
  }
  dispatch::delete_message(c.ctx->svc, *channel_id, *message_id, c.user_id, c.ctx->command_timeout,
                           reply_with_message(c, 204));
}

void post_typing(const call& c) {
  auto channel_id = id_param(c, "channel_id");
  if (!channel_id) {
    c.reply(bad_snowflake(c.param("channel_id")));
    return;
  }
  dispatch::trigger_typing(c.ctx->svc, *channel_id, c.user_id, c.ctx->command_timeout,
                           reply_with_message(c, 204));
}

}  // namespace

void mount_routes(net::http_server& server, std::shared_ptr<rest_context> ctx) {
  if (!ctx->limiter) {
    ctx->limiter = std::make_shared<rate_limiter>(ctx->rate_limit);
  }
  const std::string channel = "/channels/{channel_id}";
  const std::string message = channel + "/messages/{message_id}";
  mount(server, ctx, "GET", "/gateway", false, get_gateway);
  mount(server, ctx, "GET", "/gateway/bot", true, get_gateway_bot);
  mount(server, ctx, "GET", "/users/@me", true, get_me);
  mount(server, ctx, "GET", "/users/@me/guilds", true, get_my_guilds);
  mount(server, ctx, "GET", channel, true, get_channel);
  mount(server, ctx, "GET", channel + "/messages", true, get_messages);
  mount(server, ctx, "POST", channel + "/messages", true, post_message);
  mount(server, ctx, "GET", message, true, get_message);
  mount(server, ctx, "PATCH", message, true, patch_message);
  mount(server, ctx, "DELETE", message, true, delete_message);
  mount(server, ctx, "POST", channel + "/typing", true, post_typing);
}

}  // namespace herald::rest
