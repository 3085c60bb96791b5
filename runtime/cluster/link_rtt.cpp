// SPDX-License-Identifier: Apache-2.0
#include "runtime/cluster/link_rtt.hpp"

#include "runtime/metrics/metrics.hpp"

namespace herald::cluster {

uint64_t steady_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

void link_rtt::observe(uint16_t node_id, const std::string& peer_name, uint64_t sent_ns) {
  auto it = by_node_.find(node_id);
  if (it == by_node_.end()) {
    auto& h = metrics::registry::global().get_histogram(
        "herald_cluster_link_rtt_seconds",
        "Round-trip time of the cluster link to a peer: a ping sent every heartbeat interval and "
        "answered by the peer's membership (static) or link (etcd) actor",
        {{"peer", peer_name}});
    it = by_node_.emplace(node_id, &h).first;
  }
  auto now = steady_ns();
  it->second->observe(static_cast<double>(now > sent_ns ? now - sent_ns : 0) / 1e9);
}

}  // namespace herald::cluster
