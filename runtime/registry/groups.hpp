// SPDX-License-Identifier: Apache-2.0
#pragma once
// Local duplicate-key registry for pub/sub: group -> set of member actors,
// each removed automatically when it dies. Owned by whoever creates it; any
// thread may call it. Invariant: an actor is at most once in a group, and
// dispatch builds its message once and enqueues that same message to each
// member (a reference-count bump per member, never a re-encode).
//
// Keys: name_groups (std::string) and id_groups (uint64_t), compiled once in
// groups.cpp; other key types include detail/groups_impl.hpp. Sharded like
// basic_registry (default 64 shards, one mutex each), and like it never holds
// a shard lock across a CAF attach/detach or a handle release.
//
// Lifetime: members are strong handles; destroy the groups object before its
// caf::actor_system. Removal hooks hold only a weak pointer to it.

#include "runtime/registry/detail/removal_hook.hpp"
#include "runtime/registry/registry.hpp"
#include "runtime/registry/registry_error.hpp"

#include <caf/actor.hpp>
#include <caf/actor_control_block.hpp>
#include <caf/execution_unit.hpp>
#include <caf/message.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace herald::registry {

template <class Key, class Hash = std::hash<Key>>
class basic_groups {
public:
  /// `name` labels this object's metrics (herald_registry_*{registry=name}).
  explicit basic_groups(std::string name, size_t shard_count = default_shard_count);
  ~basic_groups();
  basic_groups(const basic_groups&) = delete;
  basic_groups& operator=(const basic_groups&) = delete;

  /// Adds `actor` to `group`; joining twice is a no-op. Fails with dead_actor
  /// if the handle is invalid or its actor has terminated.
  std::optional<registry_error> join(const Key& group, const caf::actor& actor);

  /// Removes `actor` from `group`; false if it was not a member.
  bool leave(const Key& group, const caf::actor& actor);

  /// Live members of `group`, in no particular order.
  std::vector<caf::actor> members(const Key& group) const;

  /// Sends `msg` to every live member of `group` from `sender` (may be null),
  /// enqueuing on `host` when called from an actor (self->context()), else
  /// null. Members are snapshotted under the shard lock and sent to after it
  /// is released, so a member joining concurrently may or may not receive.
  /// Returns the number of members the message was enqueued to.
  size_t dispatch_message(const Key& group, const caf::message& msg,
                          caf::strong_actor_ptr sender = nullptr,
                          caf::execution_unit* host = nullptr);

  /// Builds one caf::message from `xs` and dispatches it anonymously.
  template <class... Ts>
  size_t dispatch(const Key& group, Ts&&... xs) {
    return dispatch_message(group, caf::make_message(std::forward<Ts>(xs)...));
  }

  /// Number of groups with at least one member entry.
  size_t group_count() const;

  const std::string& name() const noexcept;

private:
  struct core;
  std::shared_ptr<core> core_;
};

/// Groups keyed by name (std::string).
using name_groups = basic_groups<std::string>;
/// Groups keyed by 64-bit id (channel and guild snowflakes).
using id_groups = basic_groups<uint64_t>;

extern template class basic_groups<std::string>;
extern template class basic_groups<uint64_t>;

}  // namespace herald::registry
