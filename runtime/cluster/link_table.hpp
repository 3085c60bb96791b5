// SPDX-License-Identifier: Apache-2.0
#pragma once
// Whom a node with etcd membership must hold a cluster link to, and when to dial: the link
// actor's bookkeeping (link_actor.hpp) without actors or sockets. etcd says who is up (each up
// peer's address and instance); the table says whom to dial now, who is linked, and how long a
// peer that could not be linked waits before the next attempt. Time is passed in, so tests
// drive it step by step. Owned by the link actor (its thread only).
//
// Rules (docs/cluster.md, "Cluster links (etcd)"):
// - A peer is linked only as the instance etcd lists: when etcd lists another instance (the
//   node restarted) the link to the old one is forgotten and the new one is dialled.
// - A peer that etcd no longer lists is forgotten: its link, its retries.
// - A failed dial or link handshake waits link_backoff::first, doubling with each failure in a
//   row, at most link_backoff::max; a lost link is dialled again after the first step. Only
//   the first failure of a row and then one per link_backoff::log_every is to be logged.
// Invariant: at most one dial per listed peer is in flight, and linked() names only peers that
// etcd lists up, each as the instance it lists.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "runtime/cluster/wire.hpp"

namespace herald::cluster {

struct link_backoff {
  std::chrono::milliseconds first{100};
  std::chrono::milliseconds max{5000};
  std::chrono::milliseconds log_every{30000};
};

class link_table {
public:
  using time_point = std::chrono::steady_clock::time_point;

  explicit link_table(link_backoff b = {});

  /// etcd's up peers (this node excluded) after a change. Returns the peers whose link is to be
  /// forgotten: linked before, now no longer listed or listed as another instance or address.
  std::vector<uint16_t> set_wanted(const std::vector<wire::member_info>& up, time_point now);

  /// The peers to dial now: listed, not linked, no dial in flight, their retry time reached.
  /// Each one returned is marked in flight until on_linked or on_failed.
  std::vector<wire::member_info> due(time_point now);
  /// When the next peer waiting for a retry is due (nullopt: nobody waits).
  std::optional<time_point> next_due() const;

  /// The dial of (node_id, instance) completed its handshake: true when that is the link etcd
  /// wants (the peer is linked now, or already was), false for a stale instance or a peer that
  /// is no longer listed (drop the handle).
  bool on_linked(uint16_t node_id, uint64_t instance);

  struct failure {
    uint32_t in_a_row = 0;               ///< failures since the peer was last linked or listed
    std::chrono::milliseconds retry_in;  ///< until the next attempt
    bool log = false;                    ///< worth a log line (first of a row, then throttled)
  };
  /// The dial or handshake of (node_id, instance) failed; nullopt when it is stale (ignored).
  std::optional<failure> on_failed(uint16_t node_id, uint64_t instance, time_point now);

  /// The link to (node_id, instance) was lost: true when it was the current link (it is
  /// unlinked and dialled again after link_backoff::first).
  bool on_lost(uint16_t node_id, uint64_t instance, time_point now);

  /// The linked peers, by node id.
  std::vector<uint16_t> linked() const;
  /// The listed peer `node_id` (nullptr when etcd does not list it up).
  const wire::member_info* find(uint16_t node_id) const;

private:
  struct peer {
    wire::member_info info;
    bool linked = false;
    bool dialing = false;
    uint32_t failures = 0;
    time_point next_at;
    std::optional<time_point> logged_at;
  };
  peer* current(uint16_t node_id, uint64_t instance);

  link_backoff backoff_;
  std::map<uint16_t, peer> peers_;
};

}  // namespace herald::cluster
