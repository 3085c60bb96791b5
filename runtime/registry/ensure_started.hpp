// SPDX-License-Identifier: Apache-2.0
#pragma once
// "Look up, or start under its partition supervisor": how keyed actors (a
// guild, a relay, a session, a feature's counter) are found by id. The
// partition supervisor chosen by the key is the serialisation point, so two
// callers racing for one key start one actor. Async helper callbacks run on
// the calling actor's thread; the blocking helper is for non-actor threads
// only. Invariant: an actor is registered in the registry before its
// supervisor replies to the start.
//
// Errors are this file's start_errc (CAF category "reg_start") or whatever
// the spawn function / supervisor returned; callers map them to their own
// domain (dispatch maps start_errc to dispatch_errc::unavailable).

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>

#include <caf/actor.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "runtime/registry/registry.hpp"
#include "runtime/supervision/dynamic_supervisor.hpp"
#include "runtime/supervision/partition_supervisor.hpp"

namespace herald::registry {

/// Why ensure_started could not hand out an actor.
enum class start_errc : uint8_t {
  /// A start raced with a live registration under the key (the caller looks
  /// the key up again; escapes only if that actor died in between).
  already_started = 1,
  /// The key's partition supervisor is restarting; retryable.
  supervisor_unavailable = 2,
};

/// CAF error category atom of start_errc ("reg_start").
caf::atom_value start_category() noexcept;
std::string to_string(start_errc x);
caf::error make_error(start_errc x, std::string detail = {});
bool is_error(const caf::error& err, start_errc x) noexcept;

/// Spawns the actor for `key` (not yet registered) or returns why it cannot.
using keyed_spawn = std::function<caf::expected<caf::actor>(caf::actor_system&, uint64_t key)>;

/// A start function for child specs: refuses with already_started while a
/// live actor holds the key (the caller then looks it up), else spawns and
/// registers. The registry must outlive the supervisor using the spec.
supervision::start_fn registered_start(id_registry& reg, keyed_spawn spawn);

/// Calls `done(caf::expected<caf::actor>)` on `self`'s thread with the live
/// actor under `key`, starting it through `sup` with `spec` if needed.
template <class Self, class Done>
void ensure_started(Self* self, id_registry& reg, const supervision::partition_supervisor& sup,
                    supervision::child_spec_ptr spec, uint64_t key,
                    std::chrono::milliseconds timeout, Done done) {
  if (auto found = reg.lookup(key)) {
    done(caf::expected<caf::actor>{std::move(found)});
    return;
  }
  auto partition = sup.partition_for(supervision::child_key{key});
  if (!partition) {
    done(caf::expected<caf::actor>{
        make_error(start_errc::supervisor_unavailable, "supervisor restarting")});
    return;
  }
  supervision::request_start_child(self, partition, std::move(spec), supervision::child_key{key},
                                   timeout)
      .then([done](const caf::actor& started) mutable { done(caf::expected<caf::actor>{started}); },
            [done, &reg, key](caf::error& err) mutable {
              if (is_error(err, start_errc::already_started)) {
                if (auto found = reg.lookup(key)) {
                  done(caf::expected<caf::actor>{std::move(found)});
                  return;
                }
              }
              done(caf::expected<caf::actor>{std::move(err)});
            });
}

/// Blocking variant for non-actor threads; waits at most `timeout`.
caf::expected<caf::actor> ensure_started(caf::actor_system& sys, id_registry& reg,
                                         const supervision::partition_supervisor& sup,
                                         supervision::child_spec_ptr spec, uint64_t key,
                                         std::chrono::milliseconds timeout);

}  // namespace herald::registry
