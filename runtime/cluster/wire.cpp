// SPDX-License-Identifier: Apache-2.0
#include "runtime/cluster/wire.hpp"

namespace herald::cluster::wire {

void announce_wire_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<member_info>("herald.cluster.member_info.v1");
  cfg.add_message_type<join_request>("herald.cluster.join_request.v1");
  cfg.add_message_type<join_reply>("herald.cluster.join_reply.v1");
  cfg.add_message_type<heartbeat>("herald.cluster.heartbeat.v1");
  cfg.add_message_type<declared_down>("herald.cluster.declared_down.v1");
  cfg.add_message_type<drain_notice>("herald.cluster.drain_notice.v1");
}

}  // namespace herald::cluster::wire
