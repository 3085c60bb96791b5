// SPDX-License-Identifier: Apache-2.0
#include "features/reactions/reaction_routes.hpp"

#include <algorithm>
#include <cstdlib>
#include <string>
#include <utility>

#include "actors/dispatch/commands.hpp"
#include "actors/domain/permission_bits.hpp"
#include "actors/domain/snowflake.hpp"
#include "actors/encoding/encode.hpp"
#include "actors/permissions/permissions.hpp"
#include "actors/rest/responses.hpp"
#include "features/reactions/reactions_error.hpp"

namespace herald::reactions {

namespace {

/// Adding needs Discord's bits for a reaction; removing one's own needs only VIEW (checked
/// by the guild for every actor); removing another user's needs MANAGE_MESSAGES.
constexpr uint64_t add_needs = permissions::add_reactions | permissions::read_message_history;

/// The path's channel, message and emoji, or the response that refuses them.
struct target {
  uint64_t channel_id = 0;
  uint64_t message_id = 0;
  emoji emoji_;
};

std::optional<net::http_response> parse_target(const rest::call& c, target& out) {
  auto channel_id = rest::id_param(c, "channel_id");
  auto message_id = rest::id_param(c, "message_id");
  if (!channel_id || !message_id) {
    return rest::bad_snowflake(!channel_id ? c.param("channel_id") : c.param("message_id"));
  }
  auto decoded = rest::percent_decoded(c.param("emoji"));
  auto e = decoded ? parse_emoji(*decoded) : std::nullopt;
  if (!e) {
    return rest::error_response(400, 10014, "Unknown Emoji");
  }
  // An unknown channel starts no counter.
  auto guild = dispatch::guild_of_channel(c.ctx->svc, *channel_id);
  if (!guild) {
    return rest::from_error(guild.error());
  }
  out = target{*channel_id, *message_id, std::move(*e)};
  return std::nullopt;
}

/// Answers 204 or the error of a change.
auto reply_no_content(const rest::call& c) {
  return [c](caf::expected<uint64_t> r) {
    c.reply(r ? rest::no_content() : rest::from_client_error(client_error_of(r.error())));
  };
}

template <class Atom>
void change(const reactions_ptr& rx, const rest::call& c, Atom atom, uint64_t user_id,
            feature::permission_check check) {
  target t;
  if (auto refused = parse_target(c, t)) {
    c.reply(std::move(*refused));
    return;
  }
  feature::ask<uint64_t>(rx->dispatch->system, rx->counters, t.channel_id, c.ctx->command_timeout,
                         reply_no_content(c), atom, t.message_id, user_id, t.emoji_, check);
}

void put_me(const reactions_ptr& rx, const rest::call& c) {
  change(rx, c, add_atom::value, c.user_id, {c.user_id, add_needs});
}

void delete_me(const reactions_ptr& rx, const rest::call& c) {
  change(rx, c, remove_atom::value, c.user_id, {c.user_id, 0});
}

void delete_user(const reactions_ptr& rx, const rest::call& c) {
  auto user_id = rest::id_param(c, "user_id");
  if (!user_id) {
    c.reply(rest::bad_snowflake(c.param("user_id")));
    return;
  }
  uint64_t needs = *user_id == c.user_id ? 0 : permissions::manage_messages;
  change(rx, c, remove_atom::value, *user_id, {c.user_id, needs});
}

/// ?limit=1..100 (default 25) and ?after=ID; nullopt with `refused` set on a bad value.
struct page {
  size_t limit = 25;
  uint64_t after = 0;
};

std::optional<net::http_response> parse_page(const rest::call& c, page& out) {
  auto limit = rest::query_value(c.query, "limit");
  if (!limit.empty()) {
    char* end = nullptr;
    long v = std::strtol(limit.c_str(), &end, 10);
    if (end == nullptr || *end != '\0' || v < 1 || v > 100) {
      return rest::form_error("limit", "NUMBER_TYPE_MAX", "Must be between 1 and 100.");
    }
    out.limit = static_cast<size_t>(v);
  }
  auto after = rest::query_value(c.query, "after");
  if (!after.empty()) {
    auto id = domain::parse_snowflake(after);
    if (!id) {
      return rest::bad_snowflake(after);
    }
    out.after = *id;
  }
  return std::nullopt;
}

void get_users(const reactions_ptr& rx, const rest::call& c) {
  target t;
  page p;
  if (auto refused = parse_target(c, t)) {
    c.reply(std::move(*refused));
    return;
  }
  if (auto refused = parse_page(c, p)) {
    c.reply(std::move(*refused));
    return;
  }
  // A read: the store's view of the channel is enough (not ordered with the guild).
  rest::channel_scope scope;
  if (auto refused = rest::load_channel(c, t.channel_id, scope)) {
    c.reply(std::move(*refused));
    return;
  }
  if (!permissions::has(scope.perms, permissions::read_message_history)) {
    c.reply(rest::error_response(403, 50001, "Missing Access"));
    return;
  }
  auto svc = rx->dispatch;
  auto answer = [c, svc, p](caf::expected<reactors> r) {
    if (!r) {
      c.reply(rest::from_client_error(client_error_of(r.error())));
      return;
    }
    std::string out = "[";
    size_t listed = 0;
    for (auto id : r->user_ids_) {
      if (id <= p.after || listed == p.limit) {
        continue;
      }
      auto who = svc->store->get_user(id);
      if (!who) {
        continue;  // a user the store no longer has
      }
      out += (listed++ == 0 ? "" : ",") + encoding::encode_user(who.value());
    }
    c.reply(rest::json_response(200, out + "]"));
  };
  feature::ask<reactors>(svc->system, rx->counters, t.channel_id, c.ctx->command_timeout,
                         std::move(answer), users_atom::value, t.message_id, t.emoji_);
}

}  // namespace

rest::message_decorator reactions_decorator(reactions_ptr rx) {
  return [rx](const rest::decorate_request& req, rest::decorate_done done) {
    auto answer = [done](caf::expected<std::vector<std::string>> fields) {
      done(fields ? std::move(*fields) : std::vector<std::string>{});
    };
    feature::ask<std::vector<std::string>>(rx->dispatch->system, rx->counters, req.channel_id,
                                           rx->dispatch->config.request_timeout, std::move(answer),
                                           decorate_atom::value, req.user_id, req.message_ids);
  };
}

std::vector<feature::route> reaction_routes(reactions_ptr rx) {
  const std::string emoji = "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}";
  auto bind = [rx](void (*handler)(const reactions_ptr&, const rest::call&)) {
    return [rx, handler](const rest::call& c) { handler(rx, c); };
  };
  return {
      {"PUT", emoji + "/@me", bind(put_me)},
      {"DELETE", emoji + "/@me", bind(delete_me)},
      {"DELETE", emoji + "/{user_id}", bind(delete_user)},
      {"GET", emoji, bind(get_users)},
  };
}

feature::feature_module feature_module() {
  feature::feature_module m;
  m.name = "reactions";
  m.summary = "message reactions: REST routes, MESSAGE_REACTION_ADD / _REMOVE";
  m.emits = {{"MESSAGE_REACTION_ADD", guild_message_reactions_intent},
             {"MESSAGE_REACTION_REMOVE", guild_message_reactions_intent}};
  m.observes = observed_kinds();
  m.build = [](const feature::feature_context& ctx) -> caf::expected<feature::feature_instance> {
    auto rx = std::make_shared<reactions_service>(ctx.svc);
    feature::feature_instance out;
    out.services.push_back(rx->counters);
    out.routes = reaction_routes(rx);
    out.observer = observer_of(rx);
    out.decorator = reactions_decorator(rx);
    return out;
  };
  return m;
}

}  // namespace herald::reactions
