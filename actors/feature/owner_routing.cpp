// SPDX-License-Identifier: Apache-2.0
#include "actors/feature/owner_routing.hpp"

#include <utility>

#include <caf/event_based_actor.hpp>

#include "actors/dispatch/commands.hpp"
#include "actors/feature/feature_wire.hpp"
#include "actors/feature/front_door.hpp"
#include "actors/services/dispatch_error.hpp"
#include "actors/services/placement.hpp"

namespace herald::feature {

namespace {

bool unknown_channel(const caf::error& err) {
  return err.category() == caf::atom("command") &&
         err.code() == static_cast<uint8_t>(dispatch::command_errc::unknown_channel);
}

/// Sends `req` to this node's front door for `owner` and calls `done(caf::expected<Reply>)` once,
/// on a CAF worker. The front door answers within the request timeout; the margin lets its
/// answer (and its failure count) come first.
template <class Reply, class Request, class Done>
void ask_owner(const owner_routing& routing, uint16_t owner, Request req, Done done) {
  auto timeout = routing.svc->config.request_timeout + std::chrono::milliseconds{1000};
  routing.svc->system.spawn([door = routing.door, owner, timeout, req = std::move(req),
                             done = std::move(done)](caf::event_based_actor* self) mutable {
    self->request(door, timeout, forward_atom::value, owner, std::move(req))
        .then([done](Reply& reply) mutable { done(caf::expected<Reply>{std::move(reply)}); },
              [done](caf::error& err) mutable { done(caf::expected<Reply>{std::move(err)}); });
  });
}

/// The retryable error a client gets for a request its guild's owner did not answer.
caf::error as_unavailable(const caf::error& err) {
  if (dispatch::is_error(err, dispatch::dispatch_errc::unavailable)) {
    return err;
  }
  return dispatch::make_error(dispatch::dispatch_errc::unavailable,
                              "guild owner did not answer: " + dispatch::describe(err));
}

}  // namespace

caf::expected<uint64_t> guild_of(const request_guild& g, const rest::call& c,
                                 channel_guilds& guilds) {
  if (g.from == request_guild::kind::any_node) {
    return uint64_t{0};
  }
  auto id = rest::id_param(c, g.param);
  if (!id) {
    return uint64_t{0};
  }
  if (g.from == request_guild::kind::guild) {
    return *id;
  }
  auto found = guilds.guild_of(*id);
  if (!found && unknown_channel(found.error())) {
    return uint64_t{0};
  }
  return found;
}

rest::work_fn on_owner(owner_routing_ptr routing, std::string feature, const route& r) {
  return [routing = std::move(routing), feature = std::move(feature), method = r.method,
          path = r.path, guild = r.guild, work = r.work](const rest::call& c) {
    auto guild_id = guild_of(guild, c, *routing->guilds);
    if (!guild_id) {
      c.reply(rest::from_error(guild_id.error()));
      return;
    }
    auto p = dispatch::place(*routing->svc, *guild_id);
    if (*guild_id == 0 || p.where == dispatch::placement::kind::local) {
      routing->epoch->check();
      work(c);
      return;
    }
    if (p.where == dispatch::placement::kind::unknown) {
      c.reply(rest::from_error(dispatch::make_error(dispatch::dispatch_errc::unavailable,
                                                    "no guild node is up: the owner is unknown")));
      return;
    }
    auto req = feature_wire::to_wire(feature, method, path, *guild_id, c.user_id, c.params, c.query,
                                     c.body);
    ask_owner<feature_wire::call_reply>(
        *routing, p.owner, std::move(req), [c](caf::expected<feature_wire::call_reply> reply) {
          c.reply(reply ? feature_wire::from_wire(std::move(*reply))
                        : rest::from_error(as_unavailable(reply.error())));
        });
  };
}

rest::message_decorator on_owner(owner_routing_ptr routing, std::string feature,
                                 rest::message_decorator decorate) {
  return
      [routing = std::move(routing), feature = std::move(feature), decorate = std::move(decorate)](
          const rest::decorate_request& req, rest::decorate_done done) {
        auto guild_id = routing->guilds->guild_of(req.channel_id);
        if (!guild_id) {
          done({});  // a channel the store does not know (or cannot tell) has no messages to show
          return;
        }
        auto p = dispatch::place(*routing->svc, *guild_id);
        if (p.where == dispatch::placement::kind::local) {
          routing->epoch->check();
          decorate(req, std::move(done));
          return;
        }
        if (p.where == dispatch::placement::kind::unknown) {
          done({});
          return;
        }
        feature_wire::decorate_request wire{feature, *guild_id, req.channel_id, req.user_id,
                                            req.message_ids};
        ask_owner<feature_wire::decorate_reply>(
            *routing, p.owner, std::move(wire),
            [done](caf::expected<feature_wire::decorate_reply> reply) {
              done(reply ? std::move(reply->fields) : std::vector<std::string>{});
            });
      };
}

}  // namespace herald::feature
