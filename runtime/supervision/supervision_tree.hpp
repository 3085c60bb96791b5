// SPDX-License-Identifier: Apache-2.0
#pragma once
// Process-wide introspection: live supervisors (for `heraldctl status`) and actors alive by kind.
// Written by supervisors on their own threads, read by any thread (admin HTTP, tests); all
// functions are thread-safe. Invariant: a supervisor is listed from its init until it exits;
// herald_actors_alive{kind} = tracked actors not yet terminated.

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor.hpp>

#include "runtime/metrics/metrics.hpp"

namespace herald::supervision {

/// Snapshot of one live supervisor.
struct supervisor_info {
  std::string name;
  std::string parent;    ///< "" for a root supervisor
  std::string strategy;  ///< one_for_one | one_for_all | rest_for_one | dynamic
  uint64_t children = 0;
  uint64_t restarts = 0;  ///< restarts performed since it started
};

/// Live supervisors, in registration order (parents before their children).
std::vector<supervisor_info> live_supervisors();

/// Indented text tree of live supervisors, one line per supervisor:
/// "<name> strategy=<s> children=<n> restarts=<r>", children indented 2 spaces.
std::string render_supervision_tree();

/// Actors alive per kind label, sorted by kind (kinds seen at least once).
struct kind_count {
  std::string kind;
  int64_t alive = 0;
};
std::vector<kind_count> actors_alive_by_kind();

/// The gauge herald_actors_alive{kind="<kind>"} (created on first use).
metrics::gauge& alive_gauge(const std::string& kind);

/// Counts `actor` in herald_actors_alive{kind}: +1 now, -1 when it terminates
/// (an attach_functor that runs on the terminating actor's thread; runs at
/// once if it is already dead). Supervisors call this for every child; call it
/// yourself for actors spawned outside a supervisor. Does not link or monitor.
void track_actor(const caf::actor& actor, const std::string& kind);
void track_actor(const caf::actor& actor, metrics::gauge& alive);

namespace detail {

/// Mutable row of one supervisor; the supervisor updates the atomics on its
/// own thread, readers copy them without a lock.
struct tree_entry {
  std::string name;
  std::string parent;
  std::string strategy;
  std::atomic<uint64_t> children{0};
  std::atomic<uint64_t> restarts{0};
};

/// Adds a row; the returned pointer stays valid until unregister_supervisor.
tree_entry* register_supervisor(std::string name, std::string parent, std::string strategy);
/// Removes the row (call from the supervisor's on_exit).
void unregister_supervisor(tree_entry* entry);

}  // namespace detail

}  // namespace herald::supervision
