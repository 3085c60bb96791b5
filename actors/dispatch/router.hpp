// SPDX-License-Identifier: Apache-2.0
#pragma once
// Placement and routing of publishes in a cluster. Every guild is ordered by one node, its owner
// on the ring (runtime/cluster/ring.hpp) over the up nodes with the `guild` role; place() says,
// from this node's view, whether that is this node, another node, or unknown (no guild node up).
// A publish for a remote owner goes through this node's router actor to the owner's router over
// the existing cluster connection (CAF remoting); the owner starts the guild on demand, publishes
// and its ack or error comes back to the caller.
//
// Ordering: one router per node, and a router sends every publish for owner N to N's one router,
// so each (sender node, owner node) pair is one CAF actor pair, which CAF keeps in order: two
// publishes from one sender to one guild are applied in the order they were sent.
// Failure: an unknown owner, an owner that is down, frozen or whose router cannot be found, or a
// node that is asked but no longer owns the guild, answers dispatch_errc::unavailable (REST 503 +
// Retry-After); the router bounds every remote request by dispatch_config::request_timeout, and
// fails every request waiting on an owner at once when membership declares that owner down (it
// watches the cluster_view; routed_calls.hpp, herald_cluster_routed_failed_on_down_total).
// Nothing is dropped silently: every request gets an answer.
//
// Messages (local, from the dispatch helpers on this node):
//   (route_publish_atom, uint16_t owner, proto::event) → guild::publish_ack | error
//   (route_status_atom, uint16_t owner, uint64_t guild_id) → route_wire::guild_status | error
//   (route_migrate_atom, uint16_t holder, session::migrate_wire::migrate_request) →
//       migrate_reply | error: take a session over from the node holding it
//       (session_migration.hpp)
// Messages (remote, from a peer's router): route_wire::publish_request → publish_reply,
//   route_wire::guild_status_request → guild_status, session::migrate_wire::migrate_request →
//   migrate_reply (the session here hands itself over: session::migrate_atom, told whether this
//   node drains).
// Guild handoff (docs/cluster.md, "Guild ownership: epochs and fencing", step 6):
//   (guild::handoff_atom, uint16_t holder, uint64_t guild_id, uint64_t epoch), local from
//   guild::spawn_guild: ask the holder's router, then record the answer in services::releases.
//   (guild::handoff_atom, uint64_t guild_id, uint64_t epoch, uint16_t asker) → ok_atom, remote
//   from the new owner's router: the guild here hands off (and is held off here while this
//   node's ring still names itself); answered once it is settled.
// Messages (remote, from a peer's relay): relay::relay_wire::attach_request → attach_reply: the
//   router spawns the guild's exporter for that relay (relay/exporter.hpp) and answers once it
//   is registered with the guild.
// Runs on the actor scheduler; its state (the peers' routers) is its own.

#include <cstdint>

#include <caf/actor.hpp>
#include <caf/atom.hpp>

#include "actors/services/placement.hpp"
#include "actors/services/services.hpp"
#include "runtime/metrics/metrics.hpp"

namespace herald::dispatch {

using route_publish_atom = caf::atom_constant<caf::atom("r_publish")>;
using route_status_atom = caf::atom_constant<caf::atom("r_status")>;
using route_migrate_atom = caf::atom_constant<caf::atom("r_migrate")>;

/// The name of every node's router in its actor system registry (cluster_view::peer finds it).
inline constexpr caf::atom_value router_name = caf::atom("h_router");

/// herald_routed_publishes_total{where="local"|"remote"}.
metrics::counter& routed_publishes(bool remote);

/// Spawns the router and registers it under router_name. Only for a clustered node.
caf::actor spawn_router(const services_ptr& svc);

}  // namespace herald::dispatch
