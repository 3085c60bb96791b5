// SPDX-License-Identifier: Apache-2.0
#pragma once
// "Look up, or start under its partition supervisor": how guilds, relays and
// sessions are found by id. The partition supervisor chosen by the key is the
// serialisation point, so two callers racing for one key start one actor.
// Async helper callbacks run on the calling actor's thread; the blocking
// helper is for non-actor threads only. Invariant: an actor is registered in
// the registry before its supervisor replies to the start.

#include <chrono>
#include <cstdint>
#include <functional>
#include <utility>

#include <caf/actor.hpp>
#include <caf/expected.hpp>

#include "actors/dispatch/dispatch_error.hpp"
#include "runtime/registry/registry.hpp"
#include "runtime/supervision/dynamic_supervisor.hpp"
#include "runtime/supervision/partition_supervisor.hpp"

namespace herald::dispatch {

/// Spawns the actor for `key` (not yet registered) or returns why it cannot.
using keyed_spawn = std::function<caf::expected<caf::actor>(caf::actor_system&, uint64_t key)>;

/// A start function for child specs: refuses with already_started while a
/// live actor holds the key (the caller then looks it up), else spawns and
/// registers. The registry must outlive the supervisor using the spec.
supervision::start_fn registered_start(registry::id_registry& reg, keyed_spawn spawn);

/// Calls `done(caf::expected<caf::actor>)` on `self`'s thread with the live
/// actor under `key`, starting it through `sup` with `spec` if needed.
template <class Self, class Done>
void ensure_started(Self* self, registry::id_registry& reg,
                    const supervision::partition_supervisor& sup, supervision::child_spec_ptr spec,
                    uint64_t key, std::chrono::milliseconds timeout, Done done) {
  if (auto found = reg.lookup(key)) {
    done(caf::expected<caf::actor>{std::move(found)});
    return;
  }
  auto partition = sup.partition_for(supervision::child_key{key});
  if (!partition) {
    done(
        caf::expected<caf::actor>{make_error(dispatch_errc::unavailable, "supervisor restarting")});
    return;
  }
  supervision::request_start_child(self, partition, std::move(spec), supervision::child_key{key},
                                   timeout)
      .then([done](const caf::actor& started) mutable { done(caf::expected<caf::actor>{started}); },
            [done, &reg, key](caf::error& err) mutable {
              if (is_error(err, dispatch_errc::already_started)) {
                if (auto found = reg.lookup(key)) {
                  done(caf::expected<caf::actor>{std::move(found)});
                  return;
                }
              }
              done(caf::expected<caf::actor>{std::move(err)});
            });
}

/// Blocking variant for non-actor threads; waits at most `timeout`.
caf::expected<caf::actor> ensure_started(caf::actor_system& sys, registry::id_registry& reg,
                                         const supervision::partition_supervisor& sup,
                                         supervision::child_spec_ptr spec, uint64_t key,
                                         std::chrono::milliseconds timeout);

}  // namespace herald::dispatch
