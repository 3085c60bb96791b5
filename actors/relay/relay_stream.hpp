// SPDX-License-Identifier: Apache-2.0
#pragma once
// The two ends of a cross-node relay stream (relay_wire.hpp), without actors:
//   - export_queue (owner side): turns what a guild sends its relays into wire items and hands
//     out at most one unacknowledged batch at a time; items that queue meanwhile travel together
//     in the next batch (that is the "events per network message" figure).
//   - decode (subscribed side): checks a received batch and turns its items back into the
//     guild's local messages, in order.
// Both are plain classes/functions, owned and called by one actor (exporter.cpp,
// relay_actor.cpp), tested in test/actors/relay/relay_stream_test.cpp.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "actors/relay/dispatch_event.hpp"
#include "actors/relay/partition_core.hpp"
#include "actors/relay/relay_messages.hpp"
#include "actors/relay/relay_wire.hpp"

namespace herald::relay {

class export_queue {
public:
  explicit export_queue(uint64_t guild_id) : guild_id_(guild_id) {}

  void add(const dispatch_event& event);
  void add(const view_update& update);
  void add(const view_reset& reset);
  void add(relay_wire::subscriber sub);
  void add(relay_wire::notice n);

  /// The next batch to send: everything queued, when something is and no batch is
  /// unacknowledged; that batch is then in flight until ack() of its seq.
  std::optional<relay_wire::batch> next();
  /// The remote relay acknowledged `seq`; returns false for a seq that is not in flight.
  bool ack(uint64_t seq);

  size_t queued_items() const noexcept { return pending_.kinds.size(); }
  bool in_flight() const noexcept { return in_flight_ != 0; }

private:
  uint64_t guild_id_;
  uint64_t last_seq_ = 0;
  uint64_t in_flight_ = 0;  // seq of the unacknowledged batch, 0: none
  relay_wire::batch pending_;
};

/// What a decoded batch contains, item by item, in order; `events` gets runs of consecutive
/// events (one item per run, so the relay sends each partition one message per run).
struct decoded_sink {
  std::function<void(std::vector<dispatch_event_ptr>&)> on_events;
  std::function<void(view_update_ptr)> on_view_update;
  std::function<void(view_reset)> on_view_reset;
  std::function<void(relay_wire::subscriber&)> on_subscriber;
  std::function<void(const relay_wire::notice&)> on_notice;
};

/// Checks `b`'s structure (item counts, view sizes, tail spans), not its guild: why it is
/// malformed, or nothing.
std::optional<std::string> check(const relay_wire::batch& b);

/// Checks `b` (guild id, item counts, view sizes, tail spans) before it delivers anything:
/// a malformed batch delivers nothing and returns why.
std::optional<std::string> decode(relay_wire::batch& b, uint64_t guild_id,
                                  const decoded_sink& sink);

/// Events in a batch (herald_cluster_relay_events_total).
size_t event_count(const relay_wire::batch& b) noexcept;
/// Payload bytes of a batch: its strings and fixed fields, not CAF's framing
/// (herald_cluster_relay_bytes_total).
size_t payload_bytes(const relay_wire::batch& b) noexcept;

}  // namespace herald::relay
