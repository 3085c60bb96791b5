// SPDX-License-Identifier: Apache-2.0
#pragma once
// The membership state machine of one node, without actors or sockets: who is in the cluster,
// up or down since when, join checks, heartbeat bookkeeping and failure detection. Time is
// passed in, so tests drive it step by step. Owned by the membership actor (its thread only).
//
// Rules (docs/cluster.md):
// - A join is refused, with one line naming the key, for another protocol version, this node's
//   own node id, the id of another process that is up here (a live duplicate), or a differing
//   consistency item (identity.secret_file's fingerprint).
// - A peer unheard for failure_timeout is declared down. A tick that comes failure_timeout after
//   the previous one means this process was frozen (SIGSTOP, a stalled VM): it declares nobody
//   down on that tick and restarts every peer's clock instead.
// - A member declared down comes back only as a higher incarnation: its heartbeats are answered
//   with declared_down until it raises its incarnation, then it is up again ("re-admitted").
//   A new instance (a restarted process) of a down member is admitted at once.
// - A draining member (this node after set_self_draining, a peer by its drain_notice) stays up
//   for routing and relays but is not one of the ring's nodes; a new instance is not draining.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/cluster/cluster_config.hpp"
#include "runtime/cluster/wire.hpp"

namespace herald::cluster {

using steady = std::chrono::steady_clock;
using wall = std::chrono::system_clock;

struct member {
  wire::member_info info;
  bool up = true;
  wall::time_point since;    ///< when it last went up or down (or became a new incarnation)
  steady::time_point heard;  ///< last heartbeat (or join) from it
  bool self = false;
  /// Told to drain (`heraldctl drain`; its own drain_notice for a peer): still up, off the ring.
  bool draining = false;
};

class member_table {
public:
  member_table(settings s, uint64_t instance, steady::time_point now, wall::time_point wall_now);

  const wire::member_info& self() const noexcept { return members_.front().info; }
  const settings& config() const noexcept { return settings_; }
  /// This node was told to drain (set_self_draining).
  bool draining() const noexcept { return members_.front().draining; }

  /// This node's join_request (its info and consistency items).
  wire::join_request make_join_request() const;

  /// What the actor does with a join or a reply besides answering it.
  struct verdict {
    bool accepted = false;
    std::string refusal;              ///< the one-line error when refused
    bool changed = false;             ///< the member list changed (publish, maybe rebuild)
    bool send_declared_down = false;  ///< the peer must raise its incarnation first
  };
  /// A peer's join_request; admits it when accepted.
  verdict on_join(const wire::join_request& req, steady::time_point now, wall::time_point wall_now);
  /// The reply to this node's join_request, accepted by `peer`: admits the peer.
  verdict on_accepted(const wire::member_info& peer, steady::time_point now,
                      wall::time_point wall_now);

  enum class heard { ok, unknown, stale };
  /// A heartbeat: ok (member alive, maybe re-admitted), unknown (no such instance: ignore) or
  /// stale (the member is down at that incarnation: answer declared_down). `changed` is set
  /// when the member list changed.
  heard on_heartbeat(const wire::heartbeat& hb, steady::time_point now, wall::time_point wall_now,
                     bool& changed);

  /// A peer says this node was declared down: true if that raised this node's incarnation
  /// (then its next heartbeats re-admit it).
  bool on_declared_down(const wire::declared_down& d);

  /// This node starts draining: it leaves its own ring (the generation rises). False when it
  /// already drained.
  bool set_self_draining();
  /// A peer's drain_notice: true when that changed the peer's draining state (the generation
  /// rises). Ignored for an unknown member, another instance or this node.
  bool on_drain_notice(const wire::drain_notice& n);

  /// The connection to (node_id, instance) was lost: true if that declared it down.
  bool on_connection_lost(uint16_t node_id, uint64_t instance, wall::time_point wall_now);

  struct tick_result {
    std::vector<uint16_t> declared_down;              ///< peers declared down on this tick
    std::optional<std::chrono::milliseconds> paused;  ///< this process was frozen this long
  };
  /// Every heartbeat interval: failure detection (and pause detection).
  tick_result tick(steady::time_point now, wall::time_point wall_now);

  /// Every member, this node included, by node id.
  std::vector<member> members() const;
  const member* find(uint16_t node_id) const;
  /// cluster.listen addresses of the peers that are up.
  std::vector<std::string> up_peer_addresses() const;
  /// Node ids of the up members (this node included) with `role`, ascending.
  std::vector<uint16_t> up_with_role(const std::string& role) const;
  /// The guild ring's nodes: up members with the `guild` role that are not draining, ascending.
  std::vector<uint16_t> ring_nodes() const;
  /// Raised whenever the set of up members (or an up member's incarnation, or whether a member
  /// drains) changes.
  uint64_t generation() const noexcept { return generation_; }

private:
  member* find_mut(uint16_t node_id);
  void set_up(member& m, uint64_t incarnation, steady::time_point now, wall::time_point wall_now);
  std::optional<std::string> check_join(const wire::join_request& req) const;

  settings settings_;
  std::vector<member> members_;  // members_[0] is this node; the rest in join order
  uint64_t generation_ = 1;
  std::optional<steady::time_point> last_tick_;
};

/// The one-line refusal a fresh table of this node (holding only itself) gives `req`: another
/// protocol version, this node's own id, another consistency item; nullopt when it would accept
/// it. The join checks for the places that admit a peer without a member table of their own
/// (etcd membership: a peer's key, a peer's link handshake).
std::optional<std::string> join_refusal(const settings& s, uint64_t instance,
                                        const wire::join_request& req);

}  // namespace herald::cluster
