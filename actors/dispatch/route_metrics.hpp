// SPDX-License-Identifier: Apache-2.0
#pragma once
// The router's cross-node traffic (router.hpp): every route_wire message this node's router sends
// to or receives from a peer's router, counted with its payload size. Any thread (sharded
// counters).
//   herald_cluster_route_messages_total{direction="in"|"out"}
//   herald_cluster_route_bytes_total{direction="in"|"out"}
//   herald_cluster_routed_failed_on_down_total: routed requests the router failed at once
//   (unavailable, REST 503) because membership declared their owner down while they waited on it
// Bytes are the message's payload (the event's protobuf bytes or the REST body, plus 8 bytes per
// integer field), not BASP framing: what the router put on the wire, comparable across releases.

#include <cstddef>

#include "actors/dispatch/route_wire.hpp"
#include "runtime/metrics/metrics.hpp"

namespace herald::dispatch {

enum class route_direction { in, out };

/// Registers both families (so /metrics shows them at 0 before the first message). Idempotent.
void register_route_metrics();

/// Counts one route_wire message of `bytes` payload bytes.
void count_route_message(route_direction d, size_t bytes);

/// herald_cluster_routed_failed_on_down_total (registered by register_route_metrics()).
metrics::counter& routed_failed_on_down();

/// Payload sizes of the route_wire messages.
inline size_t payload_size(const route_wire::publish_request& m) {
  return 8 + m.event.size();
}
inline size_t payload_size(const route_wire::publish_reply& m) {
  return 8 + m.payload.size();
}
inline size_t payload_size(const route_wire::guild_status_request&) {
  return 8;
}
inline size_t payload_size(const route_wire::guild_status&) {
  return 9;
}

template <class Message>
void count_route(route_direction d, const Message& m) {
  count_route_message(d, payload_size(m));
}

}  // namespace herald::dispatch
