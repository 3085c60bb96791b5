// SPDX-License-Identifier: Apache-2.0
#pragma once
// The revoke notifier: one actor per clustered node (static or etcd membership) that carries token
// revocations to the other nodes. After this node revoked a user's tokens (the admin route
// POST /v1/users/{id}/revoke: store first, then this node's cache and connections), the
// notifier sends a revoke notice (revoke_wire.hpp) to the notifier of every peer that is up in
// this node's view, found through the peer's membership actor (cluster_view::peer and
// lookup_service_atom) over the existing cluster connection. A notifier that receives a notice
// drops the user's cached token epoch (token_authority::forget), so the next check reads the
// raised epoch from the store, and closes the user's gateway connections on its node (4004).
//
// A notice a peer does not answer (the peer is down, frozen, cut off, or runs no notifier yet)
// is logged once, counted in herald_cluster_revoke_notices_failed_total and kept: every
// retry_interval the notifier sends the kept notices to each peer that is up and connected
// again (herald_cluster_revoke_notices_retried_total), so a frozen node that comes back closes
// the connections it still held. A kept notice is given up after retry_for; at most
// max_pending are kept (herald_cluster_revoke_notices_pending). Meanwhile the epoch is in the
// shared store, so that node refuses the revoked token once its cached epoch is older than
// identity.epoch_cache_ttl (a restarted node has no cache).
//
// Messages:
//   (revoke_atom, uint64_t user_id, uint64_t epoch): local, after this node revoked; no reply.
//   revoke_wire::revoke_notice: from a peer's notifier; replies with an empty message once the
//     cache entry is dropped and the connections are told to close.
//   a private retry tick, scheduled only while notices are kept.
// Runs on the actor scheduler; its state is its options. Invariant: a notice is sent only after
// the revoke it announces is committed to the store, so a peer that reads the store after the
// notice sees the raised epoch.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>

#include "actors/identity/token_authority.hpp"
#include "runtime/cluster/cluster_view.hpp"

namespace herald::identity {

using revoke_atom = caf::atom_constant<caf::atom("id_revoke")>;

/// The name of every node's notifier in its actor system registry (peers look it up).
inline constexpr caf::atom_value revoke_notifier_name = caf::atom("h_revoke");

struct revoke_notifier_options {
  uint16_t node_id = 0;  ///< this node's cluster.node_id (the notice's from_node)
  std::shared_ptr<const cluster::cluster_view> view;
  std::shared_ptr<token_authority> tokens;
  /// Closes this node's gateway connections of the user with 4004. Runs on the notifier's
  /// thread: must not block (gateway_server::revoke_user only posts to the strands).
  std::function<void(uint64_t user_id)> close_connections;
  /// Bounds each peer's lookup and each notice's answer.
  std::chrono::milliseconds timeout{2000};
  /// How often kept notices are sent again to the peers that are reachable again.
  std::chrono::milliseconds retry_interval{1000};
  /// How long a kept notice is tried before it is given up.
  std::chrono::milliseconds retry_for{std::chrono::hours{1}};
  /// At most this many kept notices (all peers together); later misses are dropped (logged).
  size_t max_pending = 100000;
};

/// Spawns the notifier and registers it under revoke_notifier_name.
caf::actor spawn_revoke_notifier(caf::actor_system& sys, revoke_notifier_options opts);
/// Unregisters the notifier and stops it. Idempotent.
void stop_revoke_notifier(caf::actor_system& sys, const caf::actor& notifier);

}  // namespace herald::identity
