// SPDX-License-Identifier: Apache-2.0
#include "actors/relay/relay_wire.hpp"

namespace herald::relay::relay_wire {

void announce_relay_wire_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<batch>("herald.relay.batch.v2");
  cfg.add_message_type<batch_ack>("herald.relay.batch_ack.v1");
  cfg.add_message_type<link_batch>("herald.relay.link_batch.v2");
  cfg.add_message_type<link_ack>("herald.relay.link_ack.v1");
  cfg.add_message_type<attach_request>("herald.relay.attach_request.v3");
  cfg.add_message_type<attach_reply>("herald.relay.attach_reply.v1");
  cfg.add_message_type<subscribe_request>("herald.relay.subscribe_request.v1");
}

}  // namespace herald::relay::relay_wire
