// SPDX-License-Identifier: Apache-2.0
#pragma once
// The messages membership actors exchange between nodes over CAF's remoting (BASP). Small,
// value-only structs with `inspect` overloads; nothing here points into a process. Each type's
// wire name ends in its version (`.v1`): a changed layout gets a new name and a new
// protocol_version, and join_request keeps its layout forever so that a node of another
// version still gets a readable refusal.
// Invariant: every type is announced (announce_wire_types) before the actor system is built.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor_system_config.hpp>
#include <caf/meta/type_name.hpp>

namespace herald::cluster::wire {

/// Who a node is. `instance` is random per process: a restarted node has a new one.
/// `incarnation` is the node's own counter, raised each time it learns that it was declared
/// down, so a re-admitted node is a new incarnation everywhere.
struct member_info {
  uint16_t node_id = 0;
  std::string name;
  std::string address;  ///< its cluster.listen
  std::vector<std::string> roles;
  uint64_t incarnation = 0;
  uint64_t instance = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, member_info& x) {
  return f(caf::meta::type_name("herald.cluster.member_info.v1"), x.node_id, x.name, x.address,
           x.roles, x.incarnation, x.instance);
}

/// Sent by a node to each peer it connects to (and again after it was declared down).
struct join_request {
  uint32_t protocol = 0;
  member_info from;
  /// consistency_item keys and values, index by index.
  std::vector<std::string> consistency_keys;
  std::vector<std::string> consistency_values;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, join_request& x) {
  return f(caf::meta::type_name("herald.cluster.join_request.v1"), x.protocol, x.from,
           x.consistency_keys, x.consistency_values);
}

/// The answer to a join_request. Refused: `refusal` is the one-line error naming the key.
/// Accepted: `peers` are the cluster.listen addresses of the members the responder sees up, so
/// the joiner connects to those it did not know.
struct join_reply {
  bool accepted = false;
  std::string refusal;
  member_info from;
  std::vector<std::string> peers;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, join_reply& x) {
  return f(caf::meta::type_name("herald.cluster.join_reply.v1"), x.accepted, x.refusal, x.from,
           x.peers);
}

/// Every cluster.heartbeat_interval_ms to every peer.
struct heartbeat {
  uint16_t node_id = 0;
  uint64_t instance = 0;
  uint64_t incarnation = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, heartbeat& x) {
  return f(caf::meta::type_name("herald.cluster.heartbeat.v1"), x.node_id, x.instance,
           x.incarnation);
}

/// Tells a node whose heartbeat arrived after it was declared down that it must join again
/// with a higher incarnation.
struct declared_down {
  uint16_t node_id = 0;
  uint64_t instance = 0;
  uint64_t incarnation = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, declared_down& x) {
  return f(caf::meta::type_name("herald.cluster.declared_down.v1"), x.node_id, x.instance,
           x.incarnation);
}

/// A node says whether it is draining (`heraldctl drain`, docs/operations.md): peers drop a
/// draining node from their guild ring but keep it up for routing and relays. Sent to every
/// linked peer when the node starts draining and again with every heartbeat while it drains,
/// so a peer that links later learns it too. A notice of another instance is ignored.
struct drain_notice {
  uint16_t node_id = 0;
  uint64_t instance = 0;
  bool draining = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, drain_notice& x) {
  return f(caf::meta::type_name("herald.cluster.drain_notice.v1"), x.node_id, x.instance,
           x.draining);
}

/// Adds every type above to `cfg` under its wire name.
void announce_wire_types(caf::actor_system_config& cfg);

}  // namespace herald::cluster::wire
