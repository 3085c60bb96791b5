// SPDX-License-Identifier: Apache-2.0
#pragma once
// The two ends of a relay link (one per (owner node, subscribed node), relay_wire.hpp), without
// actors:
//   - link_queue (owner side, uplink.cpp): the exporters' batches waiting for the link, in
//     arrival order, and at most one unacknowledged link batch; what waits leaves together in
//     the next link batch (up to max_link_bytes of payload, the rest in the one after).
//   - split_link (subscribed side, downlink.cpp): checks each section of a received link batch
//     and hands the well-formed ones on, in order; a malformed one is refused alone.
// Tested in test/actors/relay/link_stream_test.cpp.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>

#include "actors/relay/relay_wire.hpp"

namespace herald::relay {

/// The most payload bytes (relay_stream.hpp payload_bytes) one link batch takes when more
/// waits: bounds the serialisation buffer of one message. A single larger section still goes,
/// alone.
inline constexpr size_t max_link_bytes = size_t{4} << 20;

class link_queue {
public:
  /// Queues exporter `exporter_id`'s batch behind everything queued before it.
  void add(uint64_t exporter_id, relay_wire::batch b);

  /// The next link batch: the oldest waiting sections (up to max_link_bytes), when some wait
  /// and no link batch is unacknowledged; that link batch is in flight until ack() of its seq.
  std::optional<relay_wire::link_batch> next();
  /// The downlink acknowledged `seq`; returns false for a seq that is not in flight.
  bool ack(uint64_t seq);

  size_t waiting_sections() const noexcept { return waiting_.size(); }
  bool in_flight() const noexcept { return in_flight_ != 0; }

private:
  uint64_t last_seq_ = 0;
  uint64_t in_flight_ = 0;  // seq of the unacknowledged link batch, 0: none
  std::deque<relay_wire::link_section> waiting_;
};

/// Hands each section of `lb` to `ok` when it is well formed (relay_stream.hpp check, a guild
/// id and a seq), else to `refused` with why; in the link batch's order. Sections are moved
/// out of `lb`.
void split_link(relay_wire::link_batch& lb,
                const std::function<void(relay_wire::link_section&)>& ok,
                const std::function<void(relay_wire::link_section&, const std::string&)>& refused);

/// Events and payload bytes of a link batch (its sections' and their fixed fields).
size_t link_event_count(const relay_wire::link_batch& lb) noexcept;
size_t link_payload_bytes(const relay_wire::link_batch& lb) noexcept;

}  // namespace herald::relay
