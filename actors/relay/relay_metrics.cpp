// SPDX-License-Identifier: Apache-2.0
#include "actors/relay/relay_metrics.hpp"

#include "actors/relay/relay_stream.hpp"

namespace herald::relay {

metrics::gauge& remote_relays_gauge() {
  static auto& g = metrics::registry::global().get_gauge(
      "herald_cluster_remote_relays",
      "Exporters on this node: one per (guild this node owns, other node with subscribers)");
  return g;
}

void count_batch(const relay_wire::batch& b, bool out) {
  static const char* messages_help =
      "Cross-node relay batches (network messages) sent (out) or received (in)";
  static const char* bytes_help =
      "Payload bytes of cross-node relay batches sent (out) or received (in)";
  static auto& messages_out = metrics::registry::global().get_counter(
      "herald_cluster_relay_messages_total", messages_help, {{"direction", "out"}});
  static auto& messages_in = metrics::registry::global().get_counter(
      "herald_cluster_relay_messages_total", messages_help, {{"direction", "in"}});
  static auto& bytes_out = metrics::registry::global().get_counter(
      "herald_cluster_relay_bytes_total", bytes_help, {{"direction", "out"}});
  static auto& bytes_in = metrics::registry::global().get_counter(
      "herald_cluster_relay_bytes_total", bytes_help, {{"direction", "in"}});
  static auto& events = metrics::registry::global().get_counter(
      "herald_cluster_relay_events_total",
      "Guild events exporters sent to other nodes (per subscribed node, not per session)");
  (out ? messages_out : messages_in).inc();
  (out ? bytes_out : bytes_in).inc(payload_bytes(b));
  if (out) {
    events.inc(event_count(b));
  }
}

metrics::counter& relay_refused_counter() {
  static auto& c = metrics::registry::global().get_counter(
      "herald_cluster_relay_refused_total",
      "Malformed cross-node relay batches and subscribe requests a node refused");
  return c;
}

}  // namespace herald::relay
