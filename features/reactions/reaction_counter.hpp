// SPDX-License-Identifier: Apache-2.0
#pragma once
// The reaction counter: one server actor per channel, counting per message
// per emoji which users reacted. Started on demand by the feature's keyed
// service (see reactions.hpp), registered by channel id.
// Invariant: its counts are exactly the changes whose dispatch the guild has
// acknowledged, applied in the order the guild ordered them.
//
// State is in the store (feature::feature_state, feature "reactions"): each
// change rides its publish, so what is stored is exactly what the guild
// ordered; a (re)started counter loads its channel's reactions. It observes
// MESSAGE_DELETE and CHANNEL_DELETE and drops their reactions. Calls in flight
// when it crashes fail (timeout or actor down). See docs/writing-actors.md.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/expected.hpp>

#include "actors/feature/permission_check.hpp"
#include "actors/services/services.hpp"
#include "features/reactions/reaction_events.hpp"

namespace herald::reactions {

/// (add_atom, message_id, user_id, emoji, permission_check) → uint64_t count
/// of that emoji on that message. Idempotent: a repeated add replies the same
/// count and dispatches nothing. A new add publishes MESSAGE_REACTION_ADD,
/// which the guild checks against the permission_check as it orders it, and
/// replies once the guild acked it. Errors: invalid_emoji, unknown_message,
/// and the guild's (dispatch::missing_access, missing_permission, …).
using add_atom = caf::atom_constant<caf::atom("react_add")>;
/// (remove_atom, message_id, user_id, emoji, permission_check) → uint64_t
/// count left. Removing a reaction the user does not hold replies the count
/// and dispatches nothing; otherwise MESSAGE_REACTION_REMOVE, then the reply.
using remove_atom = caf::atom_constant<caf::atom("react_rm")>;
/// (counts_atom, message_id) → reaction_counts of that message (empty if
/// none). No state change, never an error.
using counts_atom = caf::atom_constant<caf::atom("react_cnt")>;
/// (users_atom, message_id, emoji) → reactors: who reacted with it. No state
/// change, never an error.
using users_atom = caf::atom_constant<caf::atom("react_usr")>;
/// (decorate_atom, reader user_id, std::vector<uint64_t> message_ids) →
/// std::vector<std::string>: per message Discord's `"reactions":[…]` member of
/// the message object (`me` for the reader), "" when it has none. No state
/// change, never an error. The message decorator of the feature asks it.
using decorate_atom = caf::atom_constant<caf::atom("react_dec")>;

/// One emoji's count on a message.
struct emoji_count {
  emoji emoji_;
  uint64_t count_ = 0;
};

/// A message's reactions, ordered by emoji key; no zero counts.
struct reaction_counts {
  std::vector<emoji_count> emojis_;
  /// Count of `e` (0 if nobody reacted with it).
  uint64_t of(const emoji& e) const;
};

/// Users who reacted to a message with one emoji, ascending ids.
struct reactors {
  std::vector<uint64_t> user_ids_;
};

/// Kind label of counter actors (herald_actors_alive, messages_handled).
inline constexpr const char* counter_kind = "reaction_counter";

/// Spawns the counter of `channel_id` (not registered: the keyed service
/// registers it) after reading the channel's guild; it loads its reactions
/// from `svc`'s store and publishes through `svc`'s guilds, so `svc` must be
/// started. Errors: the channel's (unknown channel, store).
caf::expected<caf::actor> spawn_reaction_counter(caf::actor_system& sys, dispatch::services_ptr svc,
                                                 uint64_t channel_id);

}  // namespace herald::reactions

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::reactions::reaction_counts)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::reactions::reactors)
