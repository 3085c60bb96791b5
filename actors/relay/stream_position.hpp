// SPDX-License-Identifier: Apache-2.0
#pragma once
// A position in one guild's event stream: the owner epoch an event was ordered under and its guild
// order (docs/cluster.md, "Event tail, cursors and resync"). A value type, copied freely by the
// guild, its exporters, relays and partitions (each on its own thread).
// Invariant: positions compare as (epoch, order) pairs, and every committed event of a guild has
// a higher position than the ones committed before it: orders grow across epochs, and an order
// reused by a later epoch (after an ephemeral, uncommitted event) has the higher epoch.

#include <cstdint>
#include <limits>

namespace herald::relay {

struct stream_position {
  uint64_t epoch = 0;  ///< 0: no position (a test's event, or nothing delivered yet)
  uint64_t order = 0;

  bool known() const noexcept { return epoch != 0; }

  friend bool operator<(const stream_position& a, const stream_position& b) noexcept {
    return a.epoch < b.epoch || (a.epoch == b.epoch && a.order < b.order);
  }
  friend bool operator==(const stream_position& a, const stream_position& b) noexcept {
    return a.epoch == b.epoch && a.order == b.order;
  }
  friend bool operator<=(const stream_position& a, const stream_position& b) noexcept {
    return !(b < a);
  }
};

/// A position after every real one: the "previous event" of a tail event whose predecessor is
/// not known (events committed before the tail existed), so no cursor counts as covered by it.
inline constexpr stream_position unknown_position{std::numeric_limits<uint64_t>::max(),
                                                  std::numeric_limits<uint64_t>::max()};

}  // namespace herald::relay
