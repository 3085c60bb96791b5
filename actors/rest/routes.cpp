// SPDX-License-Identifier: Apache-2.0
// The core REST routes' handlers and their table; mounting, authentication, the rate limit
// and offloading are route_kit.cpp's (shared with feature routes).
#include <algorithm>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/dispatch/commands.hpp"
#include "actors/domain/permission_bits.hpp"
#include "actors/domain/snowflake.hpp"
#include "actors/encoding/encode.hpp"
#include "actors/permissions/permissions.hpp"
#include "actors/rest/bodies.hpp"
#include "actors/rest/responses.hpp"
#include "actors/rest/rest_api.hpp"
#include "actors/rest/route_kit.hpp"
#include "runtime/metrics/limit_refusals.hpp"

namespace herald::rest {

namespace {

using json = nlohmann::json;
using dispatch::client_error;

// -- helpers of the handlers (they run in offloaded actors) ------------------------------

net::http_response body_error_response(const body_error& e) {
  return error_response(e.status, e.code, e.message, e.errors ? &*e.errors : nullptr);
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
  // Exactly what the gateway enforces for this user (identify_limiter).
  session_start_limit limit;
  if (c.ctx->identify_budget) {
    limit = c.ctx->identify_budget(c.user_id);
  }
  body["session_start_limit"] = {{"total", limit.total},
                                 {"remaining", limit.remaining},
                                 {"reset_after", limit.reset_after_ms},
                                 {"max_concurrency", limit.max_concurrency}};
  c.reply(json_response(200, body));
}

void get_me(const call& c) {
  auto who = c.ctx->svc->store->get_user(c.user_id);
  if (!who) {
    c.reply(unauthorized());  // a valid token of a user the store no longer has
    return;
  }
  auto body = json::parse(encoding::encode_user(who.value()));
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
  c.reply(json_response(200, encoding::encode_channel(*scope.channel)));
}

// Answers `objects` (message JSON objects of `ids`, in order) as one object or an array, with
// the features' fields spliced in. Without decorators: at once, as before.
void reply_messages(const call& c, uint64_t channel_id, std::vector<uint64_t> ids,
                    std::vector<std::string> objects, bool as_array) {
  auto finish = [c, as_array](std::vector<std::string>& objs) {
    if (!as_array) {
      c.reply(json_response(200, std::move(objs.front())));
      return;
    }
    std::string out = "[";
    for (auto& o : objs) {
      out += (out.size() > 1 ? "," : "") + o;
    }
    out.push_back(']');
    c.reply(json_response(200, std::move(out)));
  };
  const auto& decorators = c.ctx->decorators;
  if (decorators.empty() || ids.empty()) {
    finish(objects);
    return;
  }
  // Every decorator answers once, on any thread; the last answer replies.
  struct gathering {
    std::mutex mutex;
    size_t waiting;
    std::vector<std::string> objects;
  };
  auto g = std::make_shared<gathering>();
  g->waiting = decorators.size();
  g->objects = std::move(objects);
  decorate_request req{channel_id, c.user_id, std::move(ids)};
  const size_t count = req.message_ids.size();
  for (const auto& decorate : decorators) {
    decorate(req, [g, count, finish](std::vector<std::string> fields) mutable {
      std::lock_guard<std::mutex> guard{g->mutex};
      if (fields.size() == count) {
        for (size_t i = 0; i < count; ++i) {
          splice_members(g->objects[i], fields[i]);
        }
      }
      if (--g->waiting == 0) {
        finish(g->objects);
      }
    });
  }
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
  std::vector<uint64_t> ids;
  std::vector<std::string> objects;
  ids.reserve(messages.value().size());
  objects.reserve(messages.value().size());
  for (const auto& m : messages.value()) {
    ids.push_back(m.id_);
    objects.push_back(encoding::encode_message(*scope.state, m));
  }
  reply_messages(c, *channel_id, std::move(ids), std::move(objects), true);
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
  reply_messages(c, *channel_id, {*message_id},
                 {encoding::encode_message(*scope.state, msg.value())}, false);
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

/// Discord's kick. The guild decides everything (membership, KICK_MEMBERS, the target) in the
/// step that applies the removal, on the guild's owner node (dispatch::kick_member).
void delete_member(const call& c) {
  auto guild_id = id_param(c, "guild_id");
  auto user_id = id_param(c, "user_id");
  if (!guild_id || !user_id) {
    c.reply(bad_snowflake(!guild_id ? c.param("guild_id") : c.param("user_id")));
    return;
  }
  dispatch::kick_member(c.ctx->svc, *guild_id, *user_id, c.user_id, c.ctx->command_timeout,
                        reply_with_message(c, 204));
}

}  // namespace

void mount_routes(net::http_server& server, std::shared_ptr<rest_context> ctx) {
  metrics::declare_limit("rest_global");
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
  mount(server, ctx, "DELETE", "/guilds/{guild_id}/members/{user_id}", true, delete_member);
}

}  // namespace herald::rest
