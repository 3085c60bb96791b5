// SPDX-License-Identifier: Apache-2.0
#include "actors/dispatch/route_wire.hpp"

namespace herald::dispatch::route_wire {

void announce_route_wire_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<publish_request>("herald.route.publish_request.v1");
  cfg.add_message_type<publish_reply>("herald.route.publish_reply.v1");
  cfg.add_message_type<guild_status_request>("herald.route.guild_status_request.v1");
  cfg.add_message_type<guild_status>("herald.route.guild_status.v1");
}

}  // namespace herald::dispatch::route_wire
