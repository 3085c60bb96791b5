// SPDX-License-Identifier: Apache-2.0
#include "actors/session/migrate_wire.hpp"

#include <algorithm>

namespace herald::session::migrate_wire {

bool valid_reply(const migrate_request& req, const migrate_reply& reply) {
  if (reply.session_id != req.session_id || reply.user_id != req.user_id ||
      reply.cursor_guilds.size() != reply.cursor_orders.size()) {
    return false;
  }
  for (auto g : reply.cursor_guilds) {
    if (std::find(reply.guild_ids.begin(), reply.guild_ids.end(), g) == reply.guild_ids.end()) {
      return false;
    }
  }
  // The frames are those after the client's seq: they end right before next_seq.
  return reply.next_seq == req.seq + 1 + reply.frames.size();
}

void announce_migrate_wire_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<migrate_request>("herald.session.migrate_request.v1");
  cfg.add_message_type<migrate_reply>("herald.session.migrate_reply.v1");
}

}  // namespace herald::session::migrate_wire
