// SPDX-License-Identifier: Apache-2.0
#pragma once
// The cluster's revoke notice: the message a node's revoke notifier (revoke_notifier.hpp) sends
// to the notifier of every up peer after it raised a user's token epoch, so that the peer drops
// its cached epoch and closes the user's gateway connections there. A value-only struct with
// `inspect`, sent over CAF's remoting on the cluster connections; its wire name ends in its
// version, and a changed layout gets a new name.
// Invariant: announce_revoke_wire_types() runs before the actor system is built (the node hook
// configure_actor_system), on every node of a cluster.

#include <cstdint>

#include <caf/actor_system_config.hpp>
#include <caf/meta/type_name.hpp>

namespace herald::identity::revoke_wire {

/// `user_id`'s token epoch was raised to `epoch` on node `from_node` (committed to the store
/// before the notice leaves). The receiver answers with an empty message once it applied it.
struct revoke_notice {
  uint16_t from_node = 0;
  uint64_t user_id = 0;
  uint64_t epoch = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, revoke_notice& x) {
  return f(caf::meta::type_name("herald.identity.revoke_notice.v1"), x.from_node, x.user_id,
           x.epoch);
}

/// Adds revoke_notice to `cfg` under its wire name.
void announce_revoke_wire_types(caf::actor_system_config& cfg);

}  // namespace herald::identity::revoke_wire
