// SPDX-License-Identifier: Apache-2.0
#pragma once
// The node-wide context of the dispatch core: store, registries and the
// partition supervisors that own guild, relay and session actors. Created
// once per node by start_services(); shared (shared_ptr) by every dispatch
// actor on any thread. Invariant: a guild id maps to at most one live guild
// actor and one live relay on this node (the registries enforce it).

#include <chrono>
#include <memory>
#include <mutex>
#include <unordered_map>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "actors/services/dispatch_config.hpp"
#include "actors/store/store.hpp"
#include "runtime/registry/groups.hpp"
#include "runtime/registry/registry.hpp"
#include "runtime/supervision/partition_supervisor.hpp"

namespace herald::session {
struct session_params;
}

namespace herald::dispatch {

/// Parameters of sessions being started: the session supervisor's shared
/// spec takes them out by session id, so no per-session spec is kept alive.
class staged_sessions {
public:
  struct entry;
  void put(uint64_t session_id, std::shared_ptr<entry> staged);
  std::shared_ptr<entry> take(uint64_t session_id);

private:
  std::mutex mutex_;
  std::unordered_map<uint64_t, std::shared_ptr<entry>> entries_;
};

struct services {
  services(caf::actor_system& sys, dispatch_config cfg, std::shared_ptr<store::store> st);
  services(const services&) = delete;
  services& operator=(const services&) = delete;

  caf::actor_system& system;
  const dispatch_config config;
  /// Thread-safe (see store.hpp); guild actors write, sessions read.
  std::shared_ptr<store::store> store;
  /// guild id → guild actor (registered by the guild's start function).
  registry::id_registry guilds{"guilds"};
  /// guild id → this node's relay of that guild.
  registry::id_registry relays{"relays"};
  /// session id → session actor, for resume.
  registry::id_registry sessions{"sessions"};
  /// guild id → relays of that guild; a (re)starting guild finds them here.
  registry::id_groups relay_groups{"guild_relays"};
  /// user id → that user's session actors (live member changes reach them).
  registry::id_groups user_sessions{"user_sessions"};

  supervision::partition_supervisor guild_supervisor;
  supervision::partition_supervisor relay_supervisor;
  supervision::partition_supervisor session_supervisor;
  /// Started lazily by id; shared by every child of the kind.
  supervision::child_spec_ptr guild_spec;
  supervision::child_spec_ptr relay_spec;
  supervision::child_spec_ptr session_spec;
  staged_sessions staged;
};

using services_ptr = std::shared_ptr<services>;

}  // namespace herald::dispatch
