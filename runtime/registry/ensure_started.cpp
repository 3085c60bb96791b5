// SPDX-License-Identifier: Apache-2.0
#include "runtime/registry/ensure_started.hpp"

#include <caf/message.hpp>
#include <caf/send.hpp>

namespace herald::registry {

caf::atom_value start_category() noexcept {
  return caf::atom("reg_start");
}

std::string to_string(start_errc x) {
  switch (x) {
    case start_errc::already_started:
      return "already_started";
    case start_errc::supervisor_unavailable:
      return "supervisor_unavailable";
  }
  return "unknown";
}

caf::error make_error(start_errc x, std::string detail) {
  if (detail.empty()) {
    return caf::error{static_cast<uint8_t>(x), start_category()};
  }
  return caf::error{static_cast<uint8_t>(x), start_category(),
                    caf::make_message(std::move(detail))};
}

bool is_error(const caf::error& err, start_errc x) noexcept {
  // An empty caf::error has no category (CAF 0.17 dereferences null).
  return static_cast<bool>(err) && err.category() == start_category() &&
         err.code() == static_cast<uint8_t>(x);
}

supervision::start_fn registered_start(id_registry& reg, keyed_spawn spawn) {
  return [&reg, spawn = std::move(spawn)](
             const supervision::start_context& ctx) -> caf::expected<caf::actor> {
    uint64_t key = ctx.key.number();
    if (reg.lookup(key)) {
      return make_error(start_errc::already_started, std::to_string(key));
    }
    auto spawned = spawn(ctx.system, key);
    if (!spawned) {
      return spawned;
    }
    if (auto err = reg.register_actor(key, *spawned)) {
      // Only reachable if something registered outside the supervisor.
      caf::anon_send_exit(*spawned, caf::exit_reason::kill);
      return make_error(start_errc::already_started, std::to_string(key));
    }
    return spawned;
  };
}

caf::expected<caf::actor> ensure_started(caf::actor_system& sys, id_registry& reg,
                                         const supervision::partition_supervisor& sup,
                                         supervision::child_spec_ptr spec, uint64_t key,
                                         std::chrono::milliseconds timeout) {
  if (auto found = reg.lookup(key)) {
    return found;
  }
  auto started = sup.start_child(sys, std::move(spec), supervision::child_key{key}, timeout);
  if (!started && is_error(started.error(), start_errc::already_started)) {
    if (auto found = reg.lookup(key)) {
      return found;
    }
  }
  return started;
}

}  // namespace herald::registry
