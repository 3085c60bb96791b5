// SPDX-License-Identifier: Apache-2.0
#pragma once
// The session actor: one per identified client. Owns the session's identity,
// its guild subscriptions and the resume window; its outbound buffer
// (session_output) is shared with relays (writers) and the connection
// (reader). Runs under services::session_supervisor as a temporary child.
// Invariant: READY is the session's first frame (s = 1) and each guild's
// GUILD_CREATE precedes every other event of that guild.

#include <array>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/expected.hpp>

#include "actors/domain/types.hpp"
#include "actors/outbound/session_output.hpp"
#include "actors/services/membership_messages.hpp"
#include "actors/services/services.hpp"
#include "runtime/metrics/metrics.hpp"

namespace herald::session {

struct session_params {
  uint64_t session_id = 0;
  domain::user user;    ///< the identified user
  intents granted = 0;  ///< validated by the caller
  std::optional<std::array<uint32_t, 2>> shard;
  std::vector<uint64_t> guild_ids;  ///< the user's guilds in this shard
  /// A session migrated from another node (docs/cluster.md, "Session migration"): no READY (its
  /// output already holds the frames the client has not received, with their seqs), and each
  /// guild listed here with its cursor (the last guild order its old partition delivered)
  /// continues after it without a GUILD_CREATE; the other guild_ids subscribe as usual.
  bool migrated = false;
  std::vector<std::pair<uint64_t, uint64_t>> cursors;  ///< (guild id, cursor)
};

/// (connected_atom): a connection attached to the buffer; cancels expiry.
using connected_atom = caf::atom_constant<caf::atom("connected")>;
/// (disconnected_atom): the connection went away resumably; the session ends
/// unless a connection attaches within the resume window.
using disconnected_atom = caf::atom_constant<caf::atom("disconnect")>;
/// (close_atom): the client ended the session (close 1000/1001); stop now.
using close_atom = caf::atom_constant<caf::atom("close")>;
/// (resume_atom) → (session_output_ptr): a connection wants to resume this
/// session; hands out the output to attach to (state unchanged). The caller
/// checks output->user_id(), attaches with attach_resumed and then sends
/// connected_atom (ok), close_atom (too_old) or nothing.
using resume_atom = caf::atom_constant<caf::atom("resume")>;
/// (subscriptions_atom) → (std::vector<uint64_t>) guilds subscribed so far,
/// each at most once, in subscription order, none the user has left.
using subscriptions_atom = caf::atom_constant<caf::atom("subs")>;

/// (migrate_atom, uint64_t user_id, uint64_t seq, bool node_draining) →
/// (migrate_wire::migrate_reply): hand this session over to another node, whose client received
/// every frame up to `seq`. Refused (dispatch_errc::unavailable, nothing changed) unless the
/// session is `user_id`'s and either no connection is attached or this node drains; or when the
/// client's seq was never sent or its frames are gone. Otherwise the session leaves every relay
/// (each partition names its cursor), closes its output, answers with its frames after `seq`
/// and ends (herald_gateway_sessions_migrated_total{direction="out"}).
using migrate_atom = caf::atom_constant<caf::atom("s_migrate")>;

/// herald_gateway_sessions_migrated_total{direction}: `told` (op 7 by a drain), `out` (handed
/// over), `in` (taken over). Any thread; keep the reference.
metrics::counter& sessions_migrated(const std::string& direction);

/// Spawns a session: writes READY into `output`, then subscribes to each
/// guild through its relay (GUILD_CREATE follows per guild). Registers the
/// session under its id in services::sessions and joins the user's group.
/// On exit it unsubscribes from every relay.
caf::expected<caf::actor> spawn_session(const dispatch::services_ptr& svc, session_params params,
                                        session_output_ptr output);

}  // namespace herald::session
