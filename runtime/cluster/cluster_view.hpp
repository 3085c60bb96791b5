// SPDX-License-Identifier: Apache-2.0
#pragma once
// What this node knows of its cluster, for readers on any thread (admin API, metrics, routing):
// the members as last published by membership (the membership actor, or the etcd membership
// thread) and the ring built from them, and the peers' published actors (written by the
// membership actor, or etcd membership's link actor). Readers get copies or shared pointers to
// immutable rings.
// Invariant: nodes() and current_ring() always come from the same publish, and the ring's
// generation is the member table's generation at that publish.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/atom.hpp>

#include "runtime/cluster/ring.hpp"

namespace herald::cluster {

/// One member as `heraldctl nodes` shows it.
struct node_row {
  uint16_t id = 0;
  std::string name;
  std::string address;
  std::vector<std::string> roles;
  uint64_t incarnation = 0;
  bool up = false;
  bool self = false;
  int64_t since_unix_ms = 0;  ///< when it last went up or down
  /// Up but draining (`heraldctl drain`): not on the ring, still routed through and relayed from.
  bool draining = false;
};

class cluster_view {
public:
  /// A fresh view holds only this node (`self`), up, and an empty ring.
  explicit cluster_view(node_row self);

  /// Replaces the members and the ring, then sends every watcher (view_changed_atom), outside
  /// the lock, from the publisher's thread.
  void publish(std::vector<node_row> rows, std::shared_ptr<const ring> r);
  /// `watcher` gets (view_changed_atom) after every publish from now on: how an actor learns at
  /// once that a member went down (the router fails the calls waiting on it) instead of polling.
  /// Const because watching does not change what the view holds. The view keeps only the
  /// watcher's address (a weak reference): one that quit is skipped.
  void watch(const caf::actor& watcher) const;
  std::vector<node_row> nodes() const;
  std::shared_ptr<const ring> current_ring() const;
  /// The row of the node owning `guild_id` in this node's view, or nullopt (no guild node up).
  std::optional<node_row> where(uint64_t guild_id) const;
  size_t up_count() const;

  /// The actor the up peer `node_id` published on its cluster.listen (its membership actor with
  /// static membership, its link actor with etcd membership), linked by this node's own, or an
  /// invalid handle. It answers (lookup_service_atom, name) with the actor registered
  /// under `name` in its node's actor system registry (or a null pointer): the way a node finds
  /// a named service (e.g. the dispatch router) on a peer over the existing cluster connection.
  caf::actor peer(uint16_t node_id) const;
  /// Replaces the peer handles (the membership or link actor's writer side).
  void set_peers(std::map<uint16_t, caf::actor> peers);

  /// `[{"id":…,"name":…,"address":…,"roles":[…],"incarnation":…,
  /// "status":"up"|"draining"|"down","draining":bool,"since":"<ISO 8601>","self":bool}, …]` by
  /// id (`draining` is the status of a member that is up and draining).
  std::string nodes_json() const;
  /// `{"generation":…,"vnodes":…,"nodes":[{"id":…,"name":…,"points":…}, …]}`.
  std::string ring_json() const;

private:
  mutable std::mutex mutex_;
  std::vector<node_row> rows_;
  std::shared_ptr<const ring> ring_;
  std::map<uint16_t, caf::actor> peers_;
  mutable std::vector<caf::actor_addr> watchers_;
};

/// (view_changed_atom) → nothing, to every cluster_view::watch()er after a publish.
using view_changed_atom = caf::atom_constant<caf::atom("cl_changed")>;

/// (lookup_service_atom, caf::atom_value name) → caf::strong_actor_ptr, asked of a peer's
/// membership actor (cluster_view::peer).
using lookup_service_atom = caf::atom_constant<caf::atom("cl_lookup")>;

/// `2026-12-04T00:10:00.123Z`.
std::string format_utc_ms(int64_t unix_ms);

}  // namespace herald::cluster
