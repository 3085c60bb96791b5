// SPDX-License-Identifier: Apache-2.0
#pragma once
// A relay partition actor: one share of a guild's sessions on this node and
// the fan-out loop over them. Spawned and linked by its relay; receives only
// from its guild (events, subscriptions, views) and its relay (unsubscribe).
// Invariant: applies guild messages in arrival order, which is guild order.

#include <cstdint>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

namespace herald::relay {

/// Spawns a relay partition of `guild_id`, with an empty view until the
/// guild resets it. Sessions it drops because their user left the guild
/// (remove_user_atom, or absent from a view_reset) get GUILD_DELETE last. Messages
/// (relay_messages.hpp):
///   dispatch_event_ptr          deliver to eligible subscribers; no reply
///   dispatch_batch_ptr          deliver each event of the batch, in order; no reply
///   view_update_ptr             apply visibility change; no reply
///   view_reset                  install a guild incarnation's view; no reply
///   add_subscriber              add a session, write its GUILD_CREATE; no reply
///   (remove_session_atom, id)   drop one session; no reply
///   (remove_user_atom, user)    drop a departed member's sessions; no reply
///   (cursor_atom)               → (epoch, order) of the last event it took
///   (migrant_atom, id, cursor)  the next add_subscriber of `id` is a migrant's; no reply
///   (migrate_out_atom, id)      drop one session → (bool subscribed, uint64_t last order)
/// Events at or before its cursor (a tail replay overlapping what it had) are dropped and
/// counted. A view_reset whose replay starts after its cursor resyncs its sessions
/// (partition_core::sync) and tells `relay` which users to subscribe again (resynced_atom).
/// It keeps its last events within `recent_events`' bounds (dispatch_config::relay_recent_*)
/// to continue migrants after their cursor.
caf::actor spawn_relay_partition(caf::actor_system& sys, uint64_t guild_id, caf::actor relay,
                                 uint32_t recent_events, uint32_t recent_bytes);

}  // namespace herald::relay
