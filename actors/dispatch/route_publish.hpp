// SPDX-License-Identifier: Apache-2.0
#pragma once
// Publishing from inside an actor, on this node or through the router (router.hpp): the one
// path every asynchronous producer of the dispatch layer takes. Header-only templates because
// they run in the caller's actor (its thread, its request handles).
// Invariant: `done` is called exactly once, on `self`'s thread; the caller decides when `self`
// quits.

#include <chrono>
#include <utility>

#include <caf/actor.hpp>
#include <caf/expected.hpp>

#include "actors/dispatch/router.hpp"
#include "actors/guild/guild_actor.hpp"
#include "actors/services/dispatch_error.hpp"
#include "runtime/registry/ensure_started.hpp"

namespace herald::dispatch {

/// Starts the guild on this node if needed, then publishes to it.
template <class Self, class Done>
void publish_local(Self* self, const services_ptr& svc, proto::event event,
                   std::chrono::milliseconds timeout, Done done) {
  uint64_t guild_id = event.guild_id();
  registry::ensure_started(
      self, svc->guilds, svc->guild_supervisor, svc->guild_spec, guild_id, timeout,
      [self, event = std::move(event), timeout, done](caf::expected<caf::actor> guild) mutable {
        if (!guild) {
          done(caf::expected<guild::publish_ack>{from_start_error(std::move(guild.error()))});
          return;
        }
        self->request(*guild, timeout, guild::publish_atom::value, std::move(event))
            .then(
                [done](guild::publish_ack& ack) mutable {
                  done(caf::expected<guild::publish_ack>{std::move(ack)});
                },
                [done](caf::error& err) mutable {
                  done(caf::expected<guild::publish_ack>{std::move(err)});
                });
      });
}

/// Publishes to the guild's owner: here (publish_local), through the router, or refuses with
/// the retryable unavailable error when no owner is known.
template <class Self, class Done>
void publish_routed(Self* self, const services_ptr& svc, proto::event event,
                    std::chrono::milliseconds timeout, Done done) {
  auto p = place(*svc, event.guild_id());
  switch (p.where) {
    case placement::kind::local:
      routed_publishes(false).inc();
      publish_local(self, svc, std::move(event), timeout, std::move(done));
      return;
    case placement::kind::unknown:
      done(caf::expected<guild::publish_ack>{
          make_error(dispatch_errc::unavailable, "no guild node is up: the owner is unknown")});
      return;
    case placement::kind::remote:
      break;
  }
  routed_publishes(true).inc();
  self->request(svc->router, timeout, route_publish_atom::value, p.owner, std::move(event))
      .then(
          [done](guild::publish_ack& ack) mutable {
            done(caf::expected<guild::publish_ack>{std::move(ack)});
          },
          [done](caf::error& err) mutable {
            done(caf::expected<guild::publish_ack>{std::move(err)});
          });
}

}  // namespace herald::dispatch
