// SPDX-License-Identifier: Apache-2.0
#include "actors/admin/ctl_routes.hpp"

#include <future>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "actors/admin/request_errors.hpp"
#include "actors/admin/serial_worker.hpp"
#include "actors/dispatch/api.hpp"
#include "actors/dispatch/commands.hpp"
#include "actors/dispatch/router.hpp"
#include "actors/domain/convert.hpp"
#include "actors/domain/guild_state.hpp"
#include "actors/domain/permission_bits.hpp"
#include "actors/services/dispatch_error.hpp"
#include "runtime/log/log.hpp"

namespace herald::admin {

namespace {

using json = nlohmann::json;
using domain::format_snowflake;
using domain::snowflake;
using node::request_error;

/// Longest name accepted for users, guilds, channels and roles (Discord: 100 for channels).
constexpr size_t max_name_chars = 100;

net::http_response reply(unsigned status, const json& body) {
  return {status, "application/json", body.dump() + "\n", {{"Cache-Control", "no-store"}}};
}

json parse_body(const net::http_request& req) {
  auto body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    throw bad_request("the body must be a JSON object");
  }
  return body;
}

/// A uint64 given as a JSON number or a decimal string; nullopt when absent or null.
std::optional<uint64_t> optional_u64(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) {
    return std::nullopt;
  }
  if (it->is_number_unsigned()) {
    return it->get<uint64_t>();
  }
  if (it->is_number_integer() && it->get<int64_t>() >= 0) {
    return static_cast<uint64_t>(it->get<int64_t>());
  }
  if (it->is_string()) {
    if (auto v = domain::parse_snowflake(it->get<std::string>())) {
      return v;
    }
  }
  throw bad_request(std::string{key} + ": expected a decimal id or bitfield");
}

snowflake required_id(const json& body, const char* key) {
  auto v = optional_u64(body, key);
  if (!v || *v == 0) {
    throw bad_request(std::string{key} + ": a non-zero id is required");
  }
  return *v;
}

uint64_t required_bits(const json& body, const char* key) {
  auto v = optional_u64(body, key);
  if (!v) {
    throw bad_request(std::string{key} + ": a permission bitfield is required");
  }
  if ((*v & ~permissions::all_permissions) != 0) {
    throw bad_request(std::string{key} + ": unknown permission bits");
  }
  return *v;
}

std::string required_name(const json& body, const char* key, size_t max_chars = max_name_chars) {
  auto it = body.find(key);
  if (it == body.end() || !it->is_string() || it->get<std::string>().empty()) {
    throw bad_request(std::string{key} + ": a non-empty string is required");
  }
  auto value = it->get<std::string>();
  if (dispatch::utf8_length(value) > max_chars) {
    throw bad_request(std::string{key} + ": at most " + std::to_string(max_chars) + " characters");
  }
  return value;
}

bool optional_bool(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) {
    return false;
  }
  if (!it->is_boolean()) {
    throw bad_request(std::string{key} + ": expected true or false");
  }
  return it->get<bool>();
}

int64_t now_ms() {
  return domain::system_clock_ms();
}

guild::publish_ack publish(const ctl_context& ctx, const proto::event& event) {
  auto ack = dispatch::publish(ctx.svc, event, ctx.timeout);
  if (!ack) {
    throw from_dispatch(ack.error());
  }
  return std::move(*ack);
}

domain::user user_of(const ctl_context& ctx, snowflake id) {
  auto found = ctx.svc->store->get_user(id);
  if (!found) {
    throw from_store(found.error(), dispatch::make_error(dispatch::dispatch_errc::unknown_user,
                                                         format_snowflake(id)));
  }
  return std::move(found).value();
}

json create_user(const ctl_context& ctx, const net::http_request& req) {
  auto body = parse_body(req);
  domain::user u{ctx.ids->next(), required_name(body, "name", 32), optional_bool(body, "bot")};
  if (auto r = ctx.svc->store->upsert_user(u); !r) {
    throw from_store_write(r.error());
  }
  log::get("admin")->info("created user {} ({}{})", u.id_, u.username_, u.bot_ ? ", bot" : "");
  return {{"id", format_snowflake(u.id_)},
          {"name", u.username_},
          {"bot", u.bot_},
          {"token", ctx.tokens->issue(u.id_)}};
}

json revoke_tokens(const ctl_context& ctx, const net::http_request& req) {
  auto id = domain::parse_snowflake(req.param("id"));
  if (!id || *id == 0) {
    throw bad_request("id: a non-zero decimal id is required");
  }
  user_of(ctx, *id);  // 404 for unknown users
  auto epoch = ctx.tokens->revoke(*id);
  if (!epoch) {
    throw request_error{503, "unavailable", "the token epoch could not be stored"};
  }
  log::get("admin")->info("revoked every token of user {} (token epoch {})", *id, *epoch);
  if (ctx.tokens_revoked) {
    ctx.tokens_revoked(*id, *epoch);  // open connections close with 4004, here and on peers
  }
  return {{"id", format_snowflake(*id)}, {"token", ctx.tokens->issue(*id)}};
}

json create_guild(const ctl_context& ctx, const net::http_request& req) {
  auto body = parse_body(req);
  auto name = required_name(body, "name");
  auto owner = user_of(ctx, required_id(body, "owner"));
  domain::guild info{ctx.ids->next(), name, owner.id_};
  // The @everyone role (id = guild id, default permissions) comes with the state.
  domain::guild_state state{info};
  state.restore_member(domain::member{owner.id_, {}, now_ms()}, owner);
  if (auto r = ctx.svc->store->save_guild(state); !r) {
    throw from_store_write(r.error());
  }
  // The guild runs on its owner only: started here when this node owns it; another owner (or
  // none up yet) starts it on demand at its first routed publish. Starting it here too would
  // run an idle second guild actor.
  if (dispatch::place(*ctx.svc, info.id_).where == dispatch::placement::kind::local) {
    if (auto started = dispatch::guild_actor_of(ctx.svc, info.id_, ctx.timeout); !started) {
      throw from_dispatch(started.error());
    }
  }
  // The owner's live sessions subscribe now and get GUILD_CREATE.
  dispatch::notify_member_joined(ctx.svc, owner.id_, info.id_);
  log::get("admin")->info("created guild {} ({}) owned by {}", info.id_, name, owner.id_);
  return {
      {"id", format_snowflake(info.id_)}, {"name", name}, {"owner", format_snowflake(owner.id_)}};
}

json create_channel(const ctl_context& ctx, const net::http_request& req) {
  auto body = parse_body(req);
  auto guild_id = required_id(body, "guild");
  auto name = required_name(body, "name");
  bool is_private = optional_bool(body, "private");
  proto::event ev;
  ev.set_guild_id(guild_id);
  auto* c = ev.mutable_channel_create();
  c->set_id(ctx.ids->next());
  c->set_guild_id(guild_id);
  c->set_type(0);
  c->set_name(name);
  if (is_private) {
    // Private = @everyone (role id = guild id) may not view it; roles or members get
    // VIEW_CHANNEL back through their own overwrites.
    auto* ow = c->add_overwrites();
    ow->set_id(guild_id);
    ow->set_type(proto::overwrite_role);
    ow->set_deny(permissions::view_channel);
  }
  publish(ctx, ev);
  return {{"id", format_snowflake(c->id())},
          {"guild", format_snowflake(guild_id)},
          {"name", name},
          {"private", is_private}};
}

json create_role(const ctl_context& ctx, const net::http_request& req) {
  auto body = parse_body(req);
  auto guild_id = required_id(body, "guild");
  auto name = required_name(body, "name");
  auto bits = required_bits(body, "permissions");
  proto::event ev;
  ev.set_guild_id(guild_id);
  auto* r = ev.mutable_guild_role_create();
  r->set_id(ctx.ids->next());
  r->set_name(name);
  r->set_position(1);
  r->set_permissions(bits);
  publish(ctx, ev);
  return {{"id", format_snowflake(r->id())},
          {"guild", format_snowflake(guild_id)},
          {"name", name},
          {"permissions", std::to_string(bits)}};
}

json add_member(const ctl_context& ctx, const net::http_request& req) {
  auto body = parse_body(req);
  auto guild_id = required_id(body, "guild");
  auto who = user_of(ctx, required_id(body, "user"));
  std::vector<snowflake> roles;
  if (auto it = body.find("roles"); it != body.end() && !it->is_null()) {
    if (!it->is_array()) {
      throw bad_request("roles: expected an array of ids");
    }
    for (const auto& r : *it) {
      roles.push_back(required_id(json{{"roles", r}}, "roles"));
    }
  }
  proto::event ev;
  ev.set_guild_id(guild_id);
  auto* add = ev.mutable_guild_member_add();
  domain::member m{who.id_, roles, now_ms()};
  *add->mutable_member() = domain::to_proto(m);
  *add->mutable_user() = domain::to_proto(who);
  publish(ctx, ev);
  json role_ids = json::array();
  for (auto r : roles) {
    role_ids.push_back(format_snowflake(r));
  }
  return {{"guild", format_snowflake(guild_id)},
          {"user", format_snowflake(who.id_)},
          {"roles", role_ids}};
}

/// Removes a member (not a kick: no actor, so no permission or hierarchy check; the guild still
/// refuses to remove its owner). Routed to the guild's owner like every event.
json remove_member(const ctl_context& ctx, const net::http_request& req) {
  auto guild_id = domain::parse_snowflake(req.param("guild"));
  auto user_id = domain::parse_snowflake(req.param("user"));
  if (!guild_id || *guild_id == 0 || !user_id || *user_id == 0) {
    throw bad_request("guild and user: non-zero decimal ids are required");
  }
  proto::event ev;
  ev.set_guild_id(*guild_id);
  ev.mutable_guild_member_remove()->set_user_id(*user_id);
  publish(ctx, ev);
  return {{"guild", format_snowflake(*guild_id)}, {"user", format_snowflake(*user_id)}};
}

json set_overwrite(const ctl_context& ctx, const net::http_request& req) {
  auto body = parse_body(req);
  auto channel_id = required_id(body, "channel");
  auto role = optional_u64(body, "role");
  auto member = optional_u64(body, "member");
  if (role.has_value() == member.has_value() || (role ? *role : *member) == 0) {
    throw bad_request("exactly one of role or member (a non-zero id) is required");
  }
  domain::permission_overwrite ow;
  ow.id_ = role ? *role : *member;
  ow.type_ = role ? domain::overwrite_type::role : domain::overwrite_type::member;
  ow.allow_ = required_bits(body, "allow");
  ow.deny_ = required_bits(body, "deny");
  if ((ow.allow_ & ow.deny_) != 0) {
    throw bad_request("allow and deny share bits");
  }
  auto guild_id = ctx.svc->store->guild_of_channel(channel_id);
  if (!guild_id) {
    throw from_store(guild_id.error(), dispatch::make_error(dispatch::command_errc::unknown_channel,
                                                            format_snowflake(channel_id)));
  }
  // CHANNEL_UPDATE replaces the whole channel: start from its committed state (every earlier
  // publish was persisted before it was acknowledged).
  auto state = ctx.svc->store->load_guild(guild_id.value());
  if (!state) {
    throw from_store(state.error(), dispatch::make_error(dispatch::dispatch_errc::unknown_guild,
                                                         format_snowflake(guild_id.value())));
  }
  const auto* found = state.value().find_channel(channel_id);
  if (found == nullptr) {
    throw request_error{404, "unknown_channel", "unknown channel " + format_snowflake(channel_id)};
  }
  domain::channel ch = *found;
  domain::set_overwrite(ch, ow);
  proto::event ev;
  ev.set_guild_id(guild_id.value());
  *ev.mutable_channel_update() = domain::to_proto(ch);
  publish(ctx, ev);
  return {{"channel", format_snowflake(channel_id)},
          {"type", role ? "role" : "member"},
          {"id", format_snowflake(ow.id_)},
          {"allow", std::to_string(ow.allow_)},
          {"deny", std::to_string(ow.deny_)}};
}

json send_message(const ctl_context& ctx, const net::http_request& req) {
  auto body = parse_body(req);
  dispatch::post_message_args args;
  args.channel_id = required_id(body, "channel");
  args.author_id = required_id(body, "as");
  args.content = required_name(body, "content", dispatch::max_message_chars);
  user_of(ctx, args.author_id);
  auto done = std::make_shared<std::promise<caf::expected<dispatch::command_result>>>();
  auto answer = done->get_future();
  dispatch::post_message(
      ctx.svc, std::move(args), ctx.timeout,
      [done](caf::expected<dispatch::command_result> r) { done->set_value(std::move(r)); });
  // The command answers exactly once within its timeout; the margin covers a slow scheduler.
  if (answer.wait_for(ctx.timeout + std::chrono::seconds{2}) != std::future_status::ready) {
    throw request_error{503, "unavailable", "the guild did not answer in time"};
  }
  auto result = answer.get();
  if (!result) {
    throw from_dispatch(result.error());
  }
  json out{{"id", format_snowflake(result->message_id)},
           {"guild", format_snowflake(result->guild_id)}};
  auto message = json::parse(result->json, nullptr, false);
  if (!message.is_discarded() && message.is_object()) {
    out["channel"] = message.value("channel_id", "");
    out["author"] = message.contains("author") ? message["author"].value("id", "") : "";
    out["content"] = message.value("content", "");
  }
  return out;
}

/// What the routes share. The worker is declared last so that it is destroyed (running its
/// queued tasks) while the context is still alive; tasks point at this, never own it.
struct route_state {
  explicit route_state(std::shared_ptr<ctl_context> c) : ctx(std::move(c)) {}
  std::shared_ptr<ctl_context> ctx;
  serial_worker worker;
};

using ctl_fn = json (*)(const ctl_context&, const net::http_request&);

net::http_response run_guarded(const ctl_context& ctx, unsigned status, ctl_fn fn,
                               const net::http_request& req) {
  try {
    return reply(status, fn(ctx, req));
  } catch (const request_error& e) {
    return node::error_response(e);
  } catch (const json::exception& e) {
    return node::error_response(bad_request(std::string{"bad JSON value: "} + e.what()));
  } catch (const std::exception& e) {
    log::get("admin")->error("{} {} failed: {}", req.method, req.path, e.what());
    return node::error_response(request_error{500, "internal", e.what()});
  }
}

/// An async route whose work runs on the serial worker: its JSON with `status`, or the error
/// request_error it threw (request_errors.hpp).
net::http_async_handler handler(const std::shared_ptr<route_state>& state, unsigned status,
                                ctl_fn fn) {
  return [state, status, fn](const net::http_request& req, net::http_responder respond) {
    auto* st = state.get();
    st->worker.submit([st, status, fn, req, respond = std::move(respond)] {
      respond(run_guarded(*st->ctx, status, fn, req));
    });
  };
}

}  // namespace

void mount_ctl_routes(net::http_server& server, std::shared_ptr<ctl_context> ctx) {
  auto state = std::make_shared<route_state>(std::move(ctx));
  server.route_async("POST", "/v1/users", handler(state, 201, create_user));
  server.route_async("POST", "/v1/users/{id}/revoke", handler(state, 200, revoke_tokens));
  server.route_async("POST", "/v1/guilds", handler(state, 201, create_guild));
  server.route_async("POST", "/v1/channels", handler(state, 201, create_channel));
  server.route_async("POST", "/v1/roles", handler(state, 201, create_role));
  server.route_async("POST", "/v1/members", handler(state, 201, add_member));
  server.route_async("DELETE", "/v1/guilds/{guild}/members/{user}",
                     handler(state, 200, remove_member));
  server.route_async("PUT", "/v1/overwrites", handler(state, 200, set_overwrite));
  server.route_async("POST", "/v1/messages", handler(state, 201, send_message));
}

}  // namespace herald::admin
