// SPDX-License-Identifier: Apache-2.0
#pragma once
// etcd membership's model, without etcd or threads: how a node's member_info is stored as the
// value of its key (JSON), and the member set built from each read of the prefix. Time is passed
// in, so tests drive it step by step. Owned by the etcd membership thread.
//
// Rules (docs/cluster.md, "Membership (etcd)"):
// - A key present under the prefix is a member up; a member whose key is gone (lease expired or
//   revoked) is down. Nothing else declares a node down: while etcd cannot be read the set keeps
//   its last state.
// - A member's incarnation is the create_revision of its key, so a node that registers again (a
//   restarted process, or one whose lease expired while it was frozen) is a higher incarnation.
// - A key whose protocol or consistency items (identity.secret_file's fingerprint,
//   cluster.vnodes) differ from this node's is not a member: it is reported in `rejected` with
//   the same one-line error the static join gives.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/cluster/cluster_config.hpp"
#include "runtime/cluster/cluster_view.hpp"
#include "runtime/cluster/etcd_client.hpp"
#include "runtime/cluster/wire.hpp"

namespace herald::cluster {

/// The key of `node_id` under `prefix`: "/herald/" + "3".
std::string etcd_member_key(const std::string& prefix, uint16_t node_id);
/// The value of a node's key: its join_request (protocol, member_info without incarnation,
/// consistency items) as JSON, with `"draining": true` once the node drains.
std::string encode_etcd_member(const wire::join_request& req, bool draining = false);
/// The value's `draining` field (false when absent or not a member value).
bool etcd_member_draining(const etcd_kv& kv);
/// The join_request in a key's value, with from.incarnation = the key's create_revision;
/// nullopt for a value that is not one (counted and logged by the caller, never a member).
std::optional<wire::join_request> decode_etcd_member(const etcd_kv& kv);

class etcd_member_set {
public:
  etcd_member_set(settings s, uint64_t instance, std::chrono::system_clock::time_point wall_now);

  const settings& config() const noexcept { return settings_; }
  const wire::member_info& self() const noexcept { return self_.info; }
  /// This node's registration (its key's value before encoding).
  wire::join_request self_request() const;
  /// This node registered (again) at `revision`: its new incarnation.
  void set_self_incarnation(uint64_t revision);
  /// This node drains: it leaves its own ring (the generation rises); false when it already
  /// did. Its key's value says so to the others (the membership thread writes it).
  bool set_self_draining();
  bool self_draining() const noexcept { return self_.draining; }

  /// Why `peer` (another node's key) cannot be in this node's cluster, as the one-line error
  /// of a static join: another protocol or consistency item. Also for this node's own id held
  /// by another instance (`key` is named in that line).
  std::optional<std::string> refusal(const wire::join_request& peer, const std::string& key) const;

  struct apply_result {
    bool changed = false;
    std::vector<uint16_t> up;           ///< members up (again, or as a new incarnation)
    std::vector<uint16_t> down;         ///< members whose key is gone
    std::vector<uint16_t> draining;     ///< up members whose value says draining now
    std::vector<std::string> rejected;  ///< one line per key that is no member (refusal)
    size_t undecodable = 0;             ///< values that are not a member registration
  };
  /// One read of the prefix: every key under it.
  apply_result apply(const std::vector<etcd_kv>& kvs,
                     std::chrono::system_clock::time_point wall_now);

  /// Raised whenever the set of up members (or an up member's incarnation, or whether a member
  /// drains) changes.
  uint64_t generation() const noexcept { return generation_; }
  /// Rows for the cluster_view, by node id, this node included.
  std::vector<node_row> rows() const;
  /// The ring over the up members with the guild role that are not draining, stamped with
  /// generation().
  std::shared_ptr<const ring> build_ring() const;
  /// The up members other than this node, by node id: whom this node links to (link_actor.hpp).
  std::vector<wire::member_info> up_peers() const;
  const wire::member_info* find(uint16_t node_id) const;
  bool is_up(uint16_t node_id) const;

private:
  struct entry {
    wire::member_info info;
    bool up = false;
    bool self = false;
    bool draining = false;
    std::chrono::system_clock::time_point since;
  };

  settings settings_;
  entry self_;
  std::map<uint16_t, entry> peers_;
  uint64_t generation_ = 1;
};

}  // namespace herald::cluster
