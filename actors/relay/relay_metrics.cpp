// SPDX-License-Identifier: Apache-2.0
#include "actors/relay/relay_metrics.hpp"

#include "actors/relay/link_stream.hpp"

namespace herald::relay {

metrics::gauge& remote_relays_gauge() {
  static auto& g = metrics::registry::global().get_gauge(
      "herald_cluster_remote_relays",
      "Exporters on this node: one per (guild this node owns, other node with subscribers)");
  return g;
}

namespace {

/// The batch series, registered once.
struct batch_counters {
  metrics::counter& messages_out;
  metrics::counter& messages_in;
  metrics::counter& bytes_out;
  metrics::counter& bytes_in;
  metrics::counter& events;
};

batch_counters& counters() {
  static const char* messages_help =
      "Cross-node relay link batches (network messages) sent (out) or received (in)";
  static const char* bytes_help =
      "Payload bytes of cross-node relay link batches sent (out) or received (in)";
  auto& r = metrics::registry::global();
  static batch_counters c{
      r.get_counter("herald_cluster_relay_messages_total", messages_help, {{"direction", "out"}}),
      r.get_counter("herald_cluster_relay_messages_total", messages_help, {{"direction", "in"}}),
      r.get_counter("herald_cluster_relay_bytes_total", bytes_help, {{"direction", "out"}}),
      r.get_counter("herald_cluster_relay_bytes_total", bytes_help, {{"direction", "in"}}),
      r.get_counter(
          "herald_cluster_relay_events_total",
          "Guild events exporters sent to other nodes (per subscribed node, not per session)")};
  return c;
}

}  // namespace

void count_link_batch(const relay_wire::link_batch& lb, bool out) {
  auto& c = counters();
  (out ? c.messages_out : c.messages_in).inc();
  (out ? c.bytes_out : c.bytes_in).inc(link_payload_bytes(lb));
  if (out) {
    c.events.inc(link_event_count(lb));
  }
}

relay_sent relay_sent_totals() {
  auto& c = counters();
  return {c.messages_out.value(), c.bytes_out.value(), c.events.value()};
}

metrics::counter& relay_refused_counter() {
  static auto& c = metrics::registry::global().get_counter(
      "herald_cluster_relay_refused_total",
      "Malformed cross-node relay sections, batches and attach requests a node refused");
  return c;
}

metrics::counter& resyncs_counter(resync_cause cause) {
  auto get = [](const char* label) -> metrics::counter& {
    return metrics::registry::global().get_counter(
        "herald_relay_resyncs_total",
        "Sessions a relay resynced (GUILD_DELETE unavailable, then GUILD_CREATE) because it "
        "could not continue them from their cursor, by cause (failover: the guild's new owner "
        "no longer had what they missed in its event tail; migration: a session moved from "
        "another node further back than the relay's recent events)",
        {{"cause", label}});
  };
  static auto& failover = get("failover");
  static auto& migration = get("migration");
  return cause == resync_cause::failover ? failover : migration;
}

}  // namespace herald::relay
