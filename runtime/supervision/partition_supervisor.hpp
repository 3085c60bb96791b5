// SPDX-License-Identifier: Apache-2.0
#pragma once
// Partition supervisor (Elixir PartitionSupervisor): N dynamic supervisors under one one_for_one
// owner; a child's key picks its partition by hash. The handle is a cheap copyable value shared by
// any thread; the routing table is updated by the owner's start functions when a partition
// (re)starts. Invariant: partition_index(key) is stable for a given key and partition count, so
// starts and lookups for one key always meet the same dynamic supervisor.

#include <chrono>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "runtime/supervision/dynamic_supervisor.hpp"

namespace herald::supervision {

namespace detail {
struct partition_table;
}  // namespace detail

struct partition_spec {
  std::string name = "partition_supervisor";  ///< partitions are "<name>.<i>"
  size_t partitions = 0;                      ///< 0 = number of CAF scheduler threads
  restart_intensity intensity;                ///< of each partition; default 1 in 5 s
  /// Of the owner, which restarts partitions; default 3 in 5 s (Elixir's
  /// PartitionSupervisor), so one partition's escalation stays local.
  restart_intensity owner_intensity{3, std::chrono::milliseconds{5000}};
};

class partition_supervisor {
public:
  explicit partition_supervisor(partition_spec spec);

  /// Child spec starting the owner (a one_for_one supervisor of the N
  /// dynamic supervisors) under a parent; type supervisor, id = name.
  child_spec as_child() const;

  /// Starts the owner as a root supervisor, blocking up to `timeout`.
  /// Returns the owner actor (stop it with stop_supervisor()).
  caf::expected<caf::actor> start(caf::actor_system& sys,
                                  std::chrono::milliseconds timeout = default_call_timeout);

  const std::string& name() const noexcept;
  /// The owner supervisor; invalid before start.
  caf::actor owner() const;
  /// Number of partitions; 0 before start.
  size_t partitions() const;
  /// Partition chosen for `key`: key.hash() % partitions(). Needs start.
  size_t partition_index(const child_key& key) const;
  /// The dynamic supervisor currently owning `key`'s partition (invalid
  /// before start or while that partition restarts).
  caf::actor partition_for(const child_key& key) const;
  caf::actor partition(size_t index) const;

  /// Blocking start_child on key's partition (non-actor callers).
  caf::expected<caf::actor> start_child(
      caf::actor_system& sys, child_spec_ptr spec, child_key key,
      std::chrono::milliseconds timeout = default_call_timeout) const;
  /// Fire-and-forget start_child on key's partition; false if not started.
  bool cast_start_child(child_spec_ptr spec, child_key key) const;
  /// Sum of count_children over all partitions (blocking).
  caf::expected<child_counts> count_children(
      caf::actor_system& sys, std::chrono::milliseconds timeout = default_call_timeout) const;

private:
  std::shared_ptr<detail::partition_table> table_;
};

}  // namespace herald::supervision
