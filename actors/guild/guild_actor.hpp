// SPDX-License-Identifier: Apache-2.0
#pragma once
// The guild actor: authoritative state of one guild and the single ordering
// point of its events. One per guild, started on demand by id under
// services::guild_supervisor (temporary: after a crash the next publish or
// subscribe starts it again alone, state reloaded from the store, relays
// re-bound). Invariant: a producer's publish succeeds only
// after the event is persisted and handed, in guild order, to every relay.

#include <cstdint>
#include <string>
#include <string_view>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/expected.hpp>

#include "actors/outbound/shared_tail.hpp"
#include "actors/services/services.hpp"
#include "proto/domain.pb.h"

namespace herald::guild {

/// (publish_atom, proto::event) → publish_ack | dispatch error. The event is
/// validated, persisted (group-committed with whatever else is queued),
/// applied, and fanned out before the reply. Errors: invalid_event,
/// missing_permission, unknown_message, persist_failed (retryable; the guild
/// restarts from the store), unavailable (retryable: the writer's queue is full, or the
/// commit was fenced because another node claimed the guild; this incarnation then stops). A guild
/// that dies before replying makes the request fail (request_receiver_down / broken_promise):
/// nothing of that event was persisted or dispatched.
using publish_atom = caf::atom_constant<caf::atom("publish")>;

/// (ring_changed_atom) from the router of a clustered node when its ring changed: a guild
/// whose owner in this node's view is now another node hands off. It refuses new producers
/// (unavailable, retryable: they retry on the new owner), lets its staged and in-flight batches
/// commit and be dispatched, and then stops normally (unregistered, not held off the node:
/// services::fences is for fenced guilds only); the new owner claims it with a higher epoch and
/// continues the order after the last committed one. Counted by herald_guild_handoffs_total.
using ring_changed_atom = caf::atom_constant<caf::atom("g_ring")>;

/// (handoff_atom, uint16_t new_owner) → caf::ok_atom, from this node's router when the node
/// that is to own the guild asks for it (dispatch/router.hpp): the guild hands off as on a ring
/// change, whatever this node's ring says, and answers once it is settled, just before it stops.
using handoff_atom = caf::atom_constant<caf::atom("g_handoff")>;

struct publish_ack {
  uint64_t guild_order = 0;  ///< position in this guild's order
  /// The dispatched object (REST response body): the `d` of `tail` when set, else `json`.
  /// A view into this ack: valid while the ack lives.
  std::string_view payload() const;
  /// The event's frame tail, shared with every session that received it (not copied): most
  /// producers (bulk publishers, features) never read the reply, so it costs nothing.
  session::shared_tail tail;
  /// The reply of an event without a frame of its own (e.g. CHANNEL_CREATE's channel object).
  std::string json;
};

/// Spawns the guild actor for `guild_id` (not registered; the caller's
/// start function registers it). It claims the guild in the store (a new owner epoch, which
/// fences any earlier owner's later commits), loads it, and continues the guild order after the
/// store's last committed one; it fails with dispatch_errc::unknown_guild or store_error if it
/// cannot, and with unavailable (retryable) while a fenced guild is held off this node
/// (services::fences) or the store is busy. Other messages: relay_messages.hpp (members, register,
/// subscribe).
caf::expected<caf::actor> spawn_guild(const dispatch::services_ptr& svc, uint64_t guild_id);

}  // namespace herald::guild

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::proto::event)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::guild::publish_ack)
