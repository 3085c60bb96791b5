// SPDX-License-Identifier: Apache-2.0
#include "actors/services/placement.hpp"

#include "actors/services/services.hpp"
#include "runtime/cluster/ring.hpp"

namespace herald::dispatch {

placement place(const services& svc, uint64_t guild_id) {
  placement out;
  if (!svc.config.cluster) {
    return out;
  }
  auto owner = svc.config.cluster->current_ring()->owner(guild_id);
  if (!owner) {
    out.where = placement::kind::unknown;
    return out;
  }
  out.owner = *owner;
  out.where = *owner == svc.config.node_id ? placement::kind::local : placement::kind::remote;
  return out;
}

}  // namespace herald::dispatch
