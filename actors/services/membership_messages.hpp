// SPDX-License-Identifier: Apache-2.0
#pragma once
// Membership changes a session actor receives from whoever changed the
// membership (the guild actor applying an event, the admin API creating a
// guild for its owner), through services::user_sessions. Declared here, below
// both the senders and the session, so that a sender needs no session
// header. Invariant: sent only after the change is persisted.

#include <caf/atom.hpp>

namespace herald::session {

/// (join_guild_atom, uint64_t guild_id): the user became a member; subscribe.
using join_guild_atom = caf::atom_constant<caf::atom("join_guild")>;
/// (leave_guild_atom, uint64_t guild_id): the user stopped being a member (its
/// relays already dropped the session); forget the subscription.
using leave_guild_atom = caf::atom_constant<caf::atom("leaveguild")>;

}  // namespace herald::session
