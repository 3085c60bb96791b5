// SPDX-License-Identifier: Apache-2.0
#include "actors/dispatch/ensure_started.hpp"

#include <caf/send.hpp>

namespace herald::dispatch {

supervision::start_fn registered_start(registry::id_registry& reg, keyed_spawn spawn) {
  return [&reg, spawn = std::move(spawn)](
             const supervision::start_context& ctx) -> caf::expected<caf::actor> {
    uint64_t key = ctx.key.number();
    if (reg.lookup(key)) {
      return make_error(dispatch_errc::already_started, std::to_string(key));
    }
    auto spawned = spawn(ctx.system, key);
    if (!spawned) {
      return spawned;
    }
    if (auto err = reg.register_actor(key, *spawned)) {
      // Only reachable if something registered outside the supervisor.
      caf::anon_send_exit(*spawned, caf::exit_reason::kill);
      return make_error(dispatch_errc::already_started, std::to_string(key));
    }
    return spawned;
  };
}

caf::expected<caf::actor> ensure_started(caf::actor_system& sys, registry::id_registry& reg,
                                         const supervision::partition_supervisor& sup,
                                         supervision::child_spec_ptr spec, uint64_t key,
                                         std::chrono::milliseconds timeout) {
  if (auto found = reg.lookup(key)) {
    return found;
  }
  auto started = sup.start_child(sys, std::move(spec), supervision::child_key{key}, timeout);
  if (!started && is_error(started.error(), dispatch_errc::already_started)) {
    if (auto found = reg.lookup(key)) {
      return found;
    }
  }
  return started;
}

}  // namespace herald::dispatch
