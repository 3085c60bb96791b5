// SPDX-License-Identifier: Apache-2.0
#pragma once
// The consistent-hash ring that places guilds on the nodes with the `guild` role: each node owns
// `vnodes` points (hashes of its node id and the point's index); a guild belongs to the node of
// the first point at or after the guild id's hash, wrapping around. Built by the membership actor
// on every change of the up members; immutable once built, so any thread may read a ring
// (cluster_view hands out shared pointers to it).
// Invariants: the answer depends only on the set of node ids and vnodes (never on the order they
// were added or on which node builds it); adding or removing one node moves only the guilds
// that node gains or loses.

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace herald::cluster {

/// splitmix64's finaliser: the ring's hash (stable across processes and builds, unlike
/// std::hash).
uint64_t ring_hash(uint64_t x) noexcept;

class ring {
public:
  /// An empty ring (no guild node): owner() answers nullopt.
  ring() = default;
  /// The ring over `node_ids` (duplicates ignored), `vnodes` points each, stamped `generation`.
  ring(std::vector<uint16_t> node_ids, uint32_t vnodes, uint64_t generation);

  /// The node that owns `guild_id`, or nullopt when the ring has no node.
  std::optional<uint16_t> owner(uint64_t guild_id) const noexcept;

  uint64_t generation() const noexcept { return generation_; }
  uint32_t vnodes() const noexcept { return vnodes_; }
  /// The nodes on the ring, ascending.
  const std::vector<uint16_t>& nodes() const noexcept { return nodes_; }
  /// Points per node on the ring (vnodes each), by node id.
  std::vector<std::pair<uint16_t, uint32_t>> points_per_node() const;

private:
  struct point {
    uint64_t hash;
    uint16_t node;
  };
  std::vector<point> points_;  // ascending by (hash, node)
  std::vector<uint16_t> nodes_;
  uint32_t vnodes_ = 0;
  uint64_t generation_ = 0;
};

}  // namespace herald::cluster
