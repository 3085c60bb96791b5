// SPDX-License-Identifier: Apache-2.0
#include "features/pins/pins.hpp"

#include <cstdlib>
#include <limits>
#include <memory>
#include <string>
#include <utility>

#include <caf/send.hpp>

#include "actors/dispatch/commands.hpp"
#include "actors/domain/permission_bits.hpp"
#include "actors/domain/snowflake.hpp"
#include "actors/encoding/encode.hpp"
#include "actors/feature/feature_state.hpp"
#include "actors/feature/permission_check.hpp"
#include "actors/permissions/permissions.hpp"
#include "actors/rest/responses.hpp"
#include "features/pins/pin_board.hpp"

namespace herald::pins {

namespace {

using boards_ptr = feature::keyed_service_ptr;

template <class Atom>
void change(const boards_ptr& boards, const rest::call& c, Atom atom) {
  auto channel_id = rest::id_param(c, "channel_id");
  auto message_id = rest::id_param(c, "message_id");
  if (!channel_id || !message_id) {
    c.reply(rest::bad_snowflake(!channel_id ? c.param("channel_id") : c.param("message_id")));
    return;
  }
  if (auto guild = dispatch::guild_of_channel(c.ctx->svc, *channel_id); !guild) {
    c.reply(rest::from_error(guild.error()));  // an unknown channel starts no board
    return;
  }
  // A change the board made answers 204; a refusal by the guild its error; an answer the board
  // gave alone (nothing to change, a full board) waits for the guild's checks from the store.
  auto answer = [c, channel_id, message_id](caf::expected<bool> changed) {
    if (!changed && !pins_errors.is(changed.error(), pins_errc::too_many)) {
      c.reply(rest::from_client_error(pins_errors.client_error(changed.error())));
    } else if (changed && *changed) {
      c.reply(rest::no_content());
    } else if (auto refused = rest::may_act_on_message(c, *channel_id, *message_id,
                                                       permissions::pin_messages)) {
      c.reply(std::move(*refused));
    } else {
      c.reply(changed ? rest::no_content()
                      : rest::from_client_error(pins_errors.client_error(changed.error())));
    }
  };
  feature::ask<bool>(c.ctx->svc->system, boards, *channel_id, c.ctx->command_timeout,
                     std::move(answer), atom, *message_id, feature::permission_check{c.user_id});
}

/// GET /channels/{c}/messages/pins's ?limit=1..50 (default 50) and ?before=ISO8601.
struct page {
  size_t limit = max_pins;
  int64_t before_ms = std::numeric_limits<int64_t>::max();
};

std::optional<net::http_response> parse_page(const rest::call& c, page& out) {
  if (auto refused = rest::limit_param(c, "limit", max_pins, max_pins, out.limit)) {
    return refused;
  }
  auto before = rest::percent_decoded(rest::query_value(c.query, "before"));
  if (before && !before->empty()) {
    auto ms = domain::parse_iso8601(*before);
    if (!ms) {
      return rest::form_error("before", "DATE_TIME_TYPE_PARSE", "Could not parse " + *before + ".");
    }
    out.before_ms = *ms;
  }
  return std::nullopt;
}

/// The channel's pins as message objects (`pinned` true), newest first: the new shape
/// {items:[{pinned_at, message}], has_more} or, `legacy`, an array of messages.
void list(const boards_ptr& boards, const rest::call& c, bool legacy) {
  auto channel_id = rest::id_param(c, "channel_id");
  page p;
  std::optional<net::http_response> refused;
  if (!channel_id) {
    refused = rest::bad_snowflake(c.param("channel_id"));
  } else if (!legacy) {
    refused = parse_page(c, p);
  }
  auto scope = std::make_shared<rest::channel_scope>();
  if (!refused) {
    refused = rest::load_channel(c, *channel_id, *scope);
  }
  if (refused) {
    c.reply(std::move(*refused));
    return;
  }
  auto answer = [c, scope, p, legacy, channel_id](caf::expected<pin_list> pins) {
    if (!pins) {
      c.reply(rest::from_error(pins.error()));
      return;
    }
    std::string items;
    bool has_more = false;
    size_t listed = 0;
    // Discord: no pins without READ_MESSAGE_HISTORY.
    if (permissions::has(scope->perms, permissions::read_message_history)) {
      for (const auto& pin : pins->pins) {
        auto msg = c.ctx->svc->store->get_message(pin.message_id);
        if (pin.pinned_at_ms >= p.before_ms || !msg || msg.value().deleted_ ||
            msg.value().channel_id_ != *channel_id) {
          continue;
        }
        if (listed == p.limit) {
          has_more = true;
          break;
        }
        auto object = encoding::encode_message(*scope->state, msg.value());
        object.replace(object.rfind("\"pinned\":false"), 14, "\"pinned\":true");
        items += (listed++ == 0 ? "" : ",") +
                 (legacy ? object
                         : "{\"pinned_at\":\"" + domain::format_iso8601(pin.pinned_at_ms) +
                               "\",\"message\":" + object + "}");
      }
    }
    c.reply(rest::json_response(200, legacy ? "[" + items + "]"
                                            : "{\"items\":[" + items + "],\"has_more\":" +
                                                  (has_more ? "true" : "false") + "}"));
  };
  feature::ask<pin_list>(c.ctx->svc->system, boards, *channel_id, c.ctx->command_timeout,
                         std::move(answer), list_atom::value);
}

std::vector<feature::route> routes(const boards_ptr& boards) {
  auto pin = [boards](const rest::call& c) { change(boards, c, pin_atom::value); };
  auto unpin = [boards](const rest::call& c) { change(boards, c, unpin_atom::value); };
  std::vector<feature::route> out;
  for (std::string base : {"/channels/{channel_id}/messages/pins", "/channels/{channel_id}/pins"}) {
    bool legacy = base.find("/messages/") == std::string::npos;
    out.push_back({"PUT", base + "/{message_id}", pin});
    out.push_back({"DELETE", base + "/{message_id}", unpin});
    out.push_back(
        {"GET", base, [boards, legacy](const rest::call& c) { list(boards, c, legacy); }});
  }
  return out;
}

/// `"pinned":true` for the pinned ones of a REST response's messages (fcore's decorator).
rest::message_decorator pinned_fields(const dispatch::services_ptr& svc, const boards_ptr& boards) {
  return [svc, boards](const rest::decorate_request& r, rest::decorate_done done) {
    auto ids = r.message_ids;
    auto answer = [ids, done](caf::expected<pin_list> pins) {
      std::vector<std::string> fields(ids.size());
      for (size_t i = 0; pins && i < ids.size(); ++i) {
        for (const auto& p : pins->pins) {
          fields[i] = p.message_id == ids[i] ? "\"pinned\":true" : fields[i];
        }
      }
      done(std::move(fields));
    };
    feature::ask<pin_list>(svc->system, boards, r.channel_id, svc->config.request_timeout,
                           std::move(answer), list_atom::value);
  };
}

/// MESSAGE_DELETE goes to the channel's board, started if needed (its pins are in the store).
/// CHANNEL_DELETE drops the channel's stored pins at once (its board cannot start any more)
/// and clears a live board.
dispatch::core_observer observer(const dispatch::services_ptr& svc, const boards_ptr& boards) {
  auto to_board = feature::observe_by_key(boards, [](const dispatch::core_event& e) {
    return e.kind == dispatch::core_event_kind::message_delete ? e.channel_id : 0;
  });
  feature::feature_state stored{svc, "pins"};
  return [to_board, stored, boards](const dispatch::core_event& e) {
    if (e.kind != dispatch::core_event_kind::channel_delete) {
      to_board(e);
      return;
    }
    stored.submit(feature::state_writes{"pins"}.erase_prefix(std::to_string(e.channel_id) + "/"));
    if (auto live = boards->lookup(e.channel_id)) {
      caf::anon_send(live, feature::observed_atom::value, e);
    }
  };
}

}  // namespace

feature::feature_module feature_module() {
  feature::feature_module m;
  m.name = "pins";
  m.summary = "pinned messages: REST routes, CHANNEL_PINS_UPDATE, `pinned` in message objects";
  m.emits = {{"CHANNEL_PINS_UPDATE", session::guilds_intent}};
  m.observes = {dispatch::core_event_kind::message_delete,
                dispatch::core_event_kind::channel_delete};
  m.build = [](const feature::feature_context& ctx) -> caf::expected<feature::feature_instance> {
    feature::keyed_service_spec spec{"pins", board_kind, [svc = ctx.svc](auto& sys, uint64_t id) {
                                       return spawn_pin_board(sys, svc, id);
                                     }};
    auto boards = std::make_shared<feature::keyed_service>(std::move(spec));
    feature::feature_instance out;
    out.services = {boards};
    out.routes = routes(boards);
    out.observer = observer(ctx.svc, boards);
    out.decorator = pinned_fields(ctx.svc, boards);
    return out;
  };
  return m;
}

}  // namespace herald::pins
