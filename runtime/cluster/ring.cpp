// SPDX-License-Identifier: Apache-2.0
#include "runtime/cluster/ring.hpp"

#include <algorithm>
#include <map>

namespace herald::cluster {

uint64_t ring_hash(uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

ring::ring(std::vector<uint16_t> node_ids, uint32_t vnodes, uint64_t generation)
    : vnodes_(vnodes), generation_(generation) {
  std::sort(node_ids.begin(), node_ids.end());
  node_ids.erase(std::unique(node_ids.begin(), node_ids.end()), node_ids.end());
  nodes_ = std::move(node_ids);
  points_.reserve(nodes_.size() * vnodes);
  for (auto node : nodes_) {
    for (uint32_t i = 0; i < vnodes; ++i) {
      // Node id in the high half, point index in the low half: distinct inputs per point.
      points_.push_back({ring_hash((uint64_t{node} << 32) | i), node});
    }
  }
  std::sort(points_.begin(), points_.end(), [](const point& a, const point& b) {
    return a.hash != b.hash ? a.hash < b.hash : a.node < b.node;
  });
}

std::optional<uint16_t> ring::owner(uint64_t guild_id) const noexcept {
  if (points_.empty()) {
    return std::nullopt;
  }
  auto h = ring_hash(guild_id);
  auto it = std::lower_bound(points_.begin(), points_.end(), h,
                             [](const point& p, uint64_t key) { return p.hash < key; });
  return it == points_.end() ? points_.front().node : it->node;
}

std::vector<std::pair<uint16_t, uint32_t>> ring::points_per_node() const {
  std::map<uint16_t, uint32_t> counts;
  for (auto n : nodes_) {
    counts[n] = 0;
  }
  for (const auto& p : points_) {
    ++counts[p.node];
  }
  return {counts.begin(), counts.end()};
}

}  // namespace herald::cluster
