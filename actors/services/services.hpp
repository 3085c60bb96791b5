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
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "actors/domain/snowflake.hpp"
#include "actors/services/core_events.hpp"
#include "actors/services/dispatch_config.hpp"
#include "actors/services/guild_fences.hpp"
#include "actors/services/guild_releases.hpp"
#include "actors/store/store.hpp"
#include "actors/store/store_writer.hpp"
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

/// Hand-off from a guild incarnation that died with a batch in flight to its successor: what
/// the dying one could not dispatch although the store committed it. Type-erased (services know
/// no relay types; guild_actor.cpp owns the item type). Thread-safe.
class guild_handoff {
public:
  using item = std::shared_ptr<void>;
  /// Appends (several incarnations may die in a row before one takes them).
  void put(uint64_t guild_id, item x);
  /// Everything put for the guild, oldest first, and forgets it.
  std::vector<item> take(uint64_t guild_id);

private:
  std::mutex mutex_;
  std::unordered_map<uint64_t, std::vector<item>> items_;
};

struct services {
  services(caf::actor_system& sys, dispatch_config cfg, std::shared_ptr<store::store> st);
  services(const services&) = delete;
  services& operator=(const services&) = delete;

  caf::actor_system& system;
  const dispatch_config config;
  /// The node's one id generator (config.node_id in its node bits): message ids here, users,
  /// guilds, channels and roles in the admin routes. Lock-free; any thread.
  std::shared_ptr<domain::snowflake_generator> ids;
  /// Thread-safe (see store.hpp); guild actors write, sessions read.
  std::shared_ptr<store::store> store;
  /// Committed but undispatched events of dead guild incarnations (declared before writer: the
  /// writer's last completions may still put here while it drains in ~services).
  guild_handoff handoff;
  /// Group commit of every guild's writes, on its own thread (store_writer.hpp). Guild actors
  /// submit their batches here and never call store->apply themselves. Stopped (drained) by
  /// stop_services after the guilds, and by its destructor.
  std::shared_ptr<store::store_writer> writer;
  /// Guilds whose commit was fenced here (another node claimed them): not started again on this
  /// node until the ring changes or dispatch_config::fence_hold passes.
  guild_fences fences;
  /// Guilds this node waits to claim until their previous owner, still up, handed them off
  /// (guild::spawn_guild asks through the router; docs/cluster.md, handoff).
  guild_releases releases;
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
  /// Group ring_watch_group: every relay of a clustered node. The router tells them when this
  /// node's ring changes (relay_actor.hpp, owner_check_atom), so that no relay needs a timer of
  /// its own to notice that its guild moved.
  registry::id_groups ring_watchers{"ring_watchers"};
  static constexpr uint64_t ring_watch_group = 0;
  /// Group guild_watch_group: every guild actor of a clustered node. The router tells them of a
  /// ring change too (guild::ring_changed_atom): a guild the ring moved to another node hands
  /// off (settles and stops) instead of waiting to be fenced.
  static constexpr uint64_t guild_watch_group = 1;

  supervision::partition_supervisor guild_supervisor;
  supervision::partition_supervisor relay_supervisor;
  supervision::partition_supervisor session_supervisor;
  /// Started lazily by id; shared by every child of the kind.
  supervision::child_spec_ptr guild_spec;
  supervision::child_spec_ptr relay_spec;
  supervision::child_spec_ptr session_spec;
  staged_sessions staged;
  /// The dispatch router (actors/dispatch/router.hpp) of a clustered node, else invalid. Set by
  /// start_services before any producer runs; exits in stop_services.
  caf::actor router;
  /// This node's relay downlink (actors/relay/downlink.hpp) of a clustered node, else invalid:
  /// every other node's uplink sends it the sections of this node's remote relays. Set by
  /// start_services after the router; ends with it.
  caf::actor relay_downlink;
  /// Features observing core events: guilds deliver committed events of observed kinds here.
  core_observers observers;
};

using services_ptr = std::shared_ptr<services>;

}  // namespace herald::dispatch
