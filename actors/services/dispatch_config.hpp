// SPDX-License-Identifier: Apache-2.0
#pragma once
// Tunables of the dispatch core, with their defaults. heraldd sets resume_gateway_url (from
// gateway.public_url), node_id (cluster.node_id) and the writer (store.writer_*) and keeps the
// other defaults; tests and benchmarks set them directly. Invariant: a config is immutable once the
// dispatch services are started.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "actors/outbound/outbound_limits.hpp"
#include "actors/store/writer_options.hpp"
#include "runtime/cluster/cluster_view.hpp"

namespace herald::dispatch {

struct dispatch_config {
  /// Per-session queue and resume bounds (see outbound_limits defaults).
  session::outbound_limits session_limits;
  /// How long a disconnected session waits for a resume before it ends.
  /// Default 120 s.
  std::chrono::milliseconds resume_window{std::chrono::seconds{120}};
  /// Guilds with at least this many members get a partitioned relay
  /// (one partition per scheduler thread); smaller ones a single partition.
  /// Default 1000.
  uint32_t relay_partition_threshold = 1000;
  /// Partitions of a large guild's relay; 0 = the scheduler's thread count.
  uint32_t relay_partitions = 0;
  /// Members at or above which a guild is "large" in GUILD_CREATE (only the
  /// receiving member and the owner are listed). Default 250, Discord's max.
  uint32_t large_threshold = 250;
  /// Most events a guild actor persists in one store transaction
  /// (group commit of whatever is queued in its mailbox). Default 256.
  uint32_t max_commit_batch = 256;
  /// Rows kept per guild in the persisted event tail, one per committed guild batch
  /// (docs/cluster.md, "Event tail, cursors and resync"): a relay that missed at most the last
  /// this many batches (at least as many events) is replayed to, one further behind resyncs.
  /// 0 stores no tail (every failover resyncs). heraldd: dispatch.event_tail_orders (the name
  /// predates rows of several events). Default 1024.
  uint32_t event_tail_orders = 1024;
  /// The store writer's group commit and queue bounds (heraldd: the store.writer_* keys).
  store::writer_options writer;
  /// Timeout of internal requests (guild start, subscribe). Default 5 s.
  std::chrono::milliseconds request_timeout{std::chrono::seconds{5}};
  /// How long a guild whose commit was fenced (another node claimed it in the store) is not
  /// started again on this node while this node's ring stays the same: publishes here get the
  /// retryable unavailable meanwhile (docs/cluster.md, "Guild ownership: epochs and fencing").
  /// The first fence holds fence_hold_first (default 1 s); a guild fenced again soon after
  /// doubles its hold, up to fence_hold (default 10 s).
  std::chrono::milliseconds fence_hold_first{std::chrono::seconds{1}};
  std::chrono::milliseconds fence_hold{std::chrono::seconds{10}};
  /// cluster.node_id (0..1023): the node bits of every snowflake this node mints (services::ids)
  /// and of its session ids (next_session_id), so ids minted on different nodes never collide.
  uint16_t node_id = 0;
  /// This node's view of its cluster (runtime/cluster), set only on a clustered node: publishes
  /// then go to the guild's owner on the ring (actors/dispatch/router.hpp). Null: every guild is
  /// ordered here.
  std::shared_ptr<const cluster::cluster_view> cluster;
  /// Bounds of each relay partition's recent events, which continue a session migrated from
  /// another node after its cursor (docs/cluster.md, "Session migration"): at most this many
  /// events and about this many bytes of tails per partition (references to the guild's tails,
  /// not copies). 0 events keeps none (a migrated session behind the partition is resynced).
  /// Defaults 0 events (a single node migrates nothing), 256 KiB; heraldd sets 64 events on a
  /// clustered node.
  uint32_t relay_recent_events = 0;
  uint32_t relay_recent_bytes = 256 * 1024;
  /// `resume_gateway_url` sent in READY (the gateway's public URL).
  std::string resume_gateway_url = "ws://127.0.0.1:8080";
};

}  // namespace herald::dispatch
