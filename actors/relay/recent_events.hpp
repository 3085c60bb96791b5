// SPDX-License-Identifier: Apache-2.0
#pragma once
// The recent events of one relay partition, by guild order: what a session migrated from
// another node may have missed between its old node's cursor and this partition's position
// (docs/cluster.md, "Session migration"). Owned by its relay partition actor and only touched
// from it. Holds references to the events the guild made (no payload copy), at most
// `max_events` of them and about `max_bytes` of full tails.
// Invariant: the held events are consecutive in what this partition received since its floor:
// every event with order in (floor(), last_order()] that reached this partition is held.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>

#include "actors/relay/dispatch_event.hpp"

namespace herald::relay {

class recent_events {
public:
  /// Bounds (0 events: keep none, every cursor behind the partition is a resync).
  recent_events(size_t max_events, size_t max_bytes) noexcept
      : max_events_(max_events), max_bytes_(max_bytes) {}

  /// Records the next event this partition delivers (guild order).
  void push(const dispatch_event_ptr& event);
  /// The feed started again (a view_reset: a new guild incarnation or a re-attached feed), so
  /// events before it may be missing: nothing earlier counts as held any more. `position` is
  /// the last guild order dispatched before it (every later event will come), if known.
  void reset(std::optional<uint64_t> position = std::nullopt) noexcept;

  /// Order of the last event pushed since the last reset, else the reset's position (0: none
  /// known).
  uint64_t last_order() const noexcept { return last_order_; }
  /// Where this partition is in the guild's order: last_order(), if known (not after a reset
  /// of unknown position, until an event came).
  std::optional<uint64_t> position() const noexcept {
    return floor_ ? std::optional<uint64_t>{last_order_} : std::nullopt;
  }
  /// Whether this partition can continue a session that has every event up to `cursor`: every
  /// event after it up to last_order() is held (or cursor is not behind last_order(), and the
  /// later ones will come). False while nothing was pushed since the last reset: a fresh feed
  /// does not know where in the guild's order it started.
  bool covers(uint64_t cursor) const noexcept;
  /// Calls f(const dispatch_event&) for each held event with order > cursor, in order.
  template <class F>
  void for_each_after(uint64_t cursor, F&& f) const {
    for (const auto& e : events_) {
      if (e->guild_order > cursor) {
        f(*e);
      }
    }
  }
  size_t size() const noexcept { return events_.size(); }
  size_t bytes() const noexcept { return bytes_; }

private:
  void evict_oldest();

  size_t max_events_;
  size_t max_bytes_;
  std::deque<dispatch_event_ptr> events_;
  size_t bytes_ = 0;
  uint64_t last_order_ = 0;
  // Events after this order are held; nullopt until the first push after a reset (a partition
  // that just started does not know what came before its first event).
  std::optional<uint64_t> floor_;
};

}  // namespace herald::relay
