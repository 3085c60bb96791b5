// SPDX-License-Identifier: Apache-2.0
#pragma once
// The messages of a session migration (docs/cluster.md, "Session migration"): a node that got a
// Resume for a session another node holds asks that node's router for it, and the holder hands
// the session over and ends its copy. Value-only structs with `inspect`, sent between dispatch
// routers over CAF's remoting; frames travel as relay_wire::tail_bytes (the held tails written
// straight to the wire, read into fresh tails). Each wire name ends in its version.
// Invariant: announce_migrate_wire_types() runs before the actor system is built (the node hook
// configure_actor_system), on every node of a cluster; a migrate_reply's frames are the
// session's frames with s = next_seq - frames.size() … next_seq - 1, in order.

#include <cstdint>
#include <vector>

#include <caf/actor_system_config.hpp>
#include <caf/meta/type_name.hpp>

#include "actors/relay/relay_wire.hpp"

namespace herald::session::migrate_wire {

/// Asked of the holder's router: hand over session `session_id` of `user_id` (the user the
/// Resume's token authenticated), whose client received every frame up to `seq`.
struct migrate_request {
  uint64_t session_id = 0;
  uint64_t user_id = 0;
  uint64_t seq = 0;
  uint16_t asker = 0;  ///< the asking node's cluster.node_id (logs)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, migrate_request& x) {
  return f(caf::meta::type_name("herald.session.migrate_request.v1"), x.session_id, x.user_id,
           x.seq, x.asker);
}

/// The session, handed over: what the asker needs to go on with it. The holder has ended it.
struct migrate_reply {
  uint64_t session_id = 0;
  uint64_t user_id = 0;
  uint32_t granted = 0;  ///< the intents of its Identify
  bool sharded = false;
  uint32_t shard_id = 0;
  uint32_t shard_count = 0;
  /// Every guild the session asked for (subscribed or not yet), in first-asked order.
  std::vector<uint64_t> guild_ids;
  /// The guilds it was subscribed to, and per guild the last guild order its old partition
  /// delivered (0: unknown): it has every event of that guild up to it that it may see.
  std::vector<uint64_t> cursor_guilds;
  std::vector<uint64_t> cursor_orders;
  /// The seq its next frame gets.
  uint64_t next_seq = 1;
  /// The frames after the client's seq, in seq order (not yet received by the client).
  std::vector<relay::relay_wire::tail_bytes> frames;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, migrate_reply& x) {
  return f(caf::meta::type_name("herald.session.migrate_reply.v1"), x.session_id, x.user_id,
           x.granted, x.sharded, x.shard_id, x.shard_count, x.guild_ids, x.cursor_guilds,
           x.cursor_orders, x.next_seq, x.frames);
}

/// Whether a reply is well formed for `req`: the same session and user, one order per cursor
/// guild, every cursor guild among guild_ids, and frames that fit before next_seq.
bool valid_reply(const migrate_request& req, const migrate_reply& reply);

/// Adds both types to `cfg` under their wire names.
void announce_migrate_wire_types(caf::actor_system_config& cfg);

}  // namespace herald::session::migrate_wire
