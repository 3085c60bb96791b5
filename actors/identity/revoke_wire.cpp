// SPDX-License-Identifier: Apache-2.0
#include "actors/identity/revoke_wire.hpp"

namespace herald::identity::revoke_wire {

void announce_revoke_wire_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<revoke_notice>("herald.identity.revoke_notice.v1");
}

}  // namespace herald::identity::revoke_wire
