// SPDX-License-Identifier: Apache-2.0
#pragma once
// The cross-node relay's metrics (docs/cluster.md "Metrics"). Process-wide series in the
// global registry; any thread.

#include <cstddef>
#include <cstdint>

#include "actors/relay/relay_wire.hpp"
#include "runtime/metrics/metrics.hpp"

namespace herald::relay {

/// herald_cluster_remote_relays: exporters running on this node (one per guild it owns and
/// subscribed node).
metrics::gauge& remote_relays_gauge();
/// A link batch sent (out) or received (in): herald_cluster_relay_messages_total{direction},
/// herald_cluster_relay_bytes_total{direction} and, for out, herald_cluster_relay_events_total.
void count_link_batch(const relay_wire::link_batch& lb, bool out);
/// What this process's uplinks sent so far: the `out` series of the link batch counters above.
struct relay_sent {
  uint64_t messages = 0;  ///< link batches (network messages)
  uint64_t bytes = 0;     ///< their payload bytes (link_stream.hpp link_payload_bytes)
  uint64_t events = 0;    ///< guild events in them
};
/// Read from any thread (herald-bench reads it around its events phase).
relay_sent relay_sent_totals();
/// herald_cluster_relay_refused_total: malformed sections, batches and requests a node refused.
metrics::counter& relay_refused_counter();
/// Why a relay resynced sessions (the `cause` label of herald_relay_resyncs_total).
enum class resync_cause {
  failover,   ///< the guild's new owner no longer had what they missed in its event tail
  migration,  ///< a session moved from another node further back than the recent events
};
/// herald_relay_resyncs_total{cause}: sessions a relay resynced (GUILD_DELETE unavailable, then
/// a new GUILD_CREATE) because it could not continue them from their cursor.
metrics::counter& resyncs_counter(resync_cause cause);

}  // namespace herald::relay
