// SPDX-License-Identifier: Apache-2.0
#pragma once
// The relay of one guild on this node: owns the guild's relay partitions here
// and routes session subscriptions to the guild, which adds them to a
// partition in guild order. Started on demand by id under the relay partition
// supervisor; outlives guild restarts (a restarted guild finds it through
// services::relay_groups). Invariant: a session is in exactly one partition.

#include <cstdint>

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/expected.hpp>

#include "actors/services/services.hpp"

namespace herald::relay {

/// Spawns the relay of `guild_id` (not registered; see dispatch::services).
/// It asks the guild for its size, spawns and links its partitions (one, or
/// one per scheduler thread for large guilds), joins the guild's relay group
/// and registers with the guild; until then it queues requests.
/// Messages (relay_messages.hpp):
///   (subscribe_atom, session_output_ptr) → ok_atom | dispatch error
///       (unknown_guild, not_member, unavailable)
///   (unsubscribe_atom, uint64_t session_id) → nothing
caf::expected<caf::actor> spawn_relay(const dispatch::services_ptr& svc, uint64_t guild_id);

/// (owner_check_atom) to a relay of a clustered node: compare its feed (the local guild or the
/// owner's exporter) with the guild's owner in this node's view now, and move it if the owner
/// changed. Relays are in services::ring_watchers; the router sends it to all of them when the
/// ring changes (one timer per node, not one per relay).
using owner_check_atom = caf::atom_constant<caf::atom("r_owner")>;

/// The partition a session belongs to among `count`.
inline uint32_t partition_of(uint64_t session_id, uint32_t count) noexcept {
  uint64_t x = session_id * 0x9E3779B97F4A7C15ull;
  return static_cast<uint32_t>((x >> 32) % count);
}

}  // namespace herald::relay
