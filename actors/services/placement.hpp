// SPDX-License-Identifier: Apache-2.0
#pragma once
// Where a guild's events are ordered, as this node's cluster view says now: this node, another
// node (its owner on the ring, runtime/cluster/ring.hpp), or unknown (no guild node up). Read by
// the dispatch router (publishes) and by relays (which feed from the owner's guild actor here
// or from an exporter on the owner, relay/relay_actor.hpp). Any thread.

#include <cstdint>

namespace herald::dispatch {

struct services;

/// Where a guild's events are ordered, as this node sees it now.
struct placement {
  enum class kind { local, remote, unknown };
  kind where = kind::local;
  uint16_t owner = 0;  ///< the owner's cluster.node_id (remote and local in a cluster)
};

/// Unclustered node (no dispatch_config::cluster): always local.
placement place(const services& svc, uint64_t guild_id);

}  // namespace herald::dispatch
