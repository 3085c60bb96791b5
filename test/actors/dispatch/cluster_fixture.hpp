// SPDX-License-Identifier: Apache-2.0
#pragma once
// A two-node cluster view for in-process routing and relay tests: this node (id 1, "na") and a
// peer (id 2, "nb"), both up, on one ring. Nothing connects to the peer: what a test sends
// there is refused or observed, never delivered.

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "actors/dispatch/api.hpp"
#include "runtime/cluster/cluster_view.hpp"
#include "runtime/cluster/ring.hpp"

namespace herald::dispatch_test {

constexpr uint16_t self_id = 1;
constexpr uint16_t peer_id = 2;

inline std::shared_ptr<cluster::cluster_view> two_node_view() {
  cluster::node_row self;
  self.id = self_id;
  self.name = "na";
  self.up = true;
  self.self = true;
  auto view = std::make_shared<cluster::cluster_view>(self);
  cluster::node_row peer;
  peer.id = peer_id;
  peer.name = "nb";
  peer.up = true;
  view->publish({self, peer}, std::make_shared<const cluster::ring>(
                                  std::vector<uint16_t>{self_id, peer_id}, 64, 1));
  return view;
}

/// The first guild id (snowflake-like, from `start`) the ring gives to `owner`.
inline uint64_t guild_owned_by(const cluster::cluster_view& view, uint16_t owner, uint64_t start) {
  for (uint64_t id = start;; id += uint64_t{1} << 22) {
    if (view.current_ring()->owner(id) == owner) {
      return id;
    }
  }
}

/// Dispatch config of this node in `view`, with `request_timeout` for routed requests.
inline dispatch::dispatch_config clustered_config(std::shared_ptr<cluster::cluster_view> view,
                                                  std::chrono::milliseconds request_timeout) {
  dispatch::dispatch_config dc;
  dc.node_id = self_id;
  dc.cluster = std::move(view);
  dc.request_timeout = request_timeout;
  return dc;
}

}  // namespace herald::dispatch_test
