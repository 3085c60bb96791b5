// SPDX-License-Identifier: Apache-2.0
#pragma once
// Internals shared by the static and dynamic supervisor actors: starting, stopping and logging one
// child, and per-supervisor metrics. Called only on the owning supervisor's actor thread.
// Invariant: a started child is monitored by its supervisor and counted in
// herald_actors_alive{kind} exactly once.

#include <chrono>
#include <string>

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/expected.hpp>

#include "runtime/metrics/metrics.hpp"
#include "runtime/supervision/child_spec.hpp"
#include "runtime/supervision/supervision_tree.hpp"

namespace herald::supervision::detail {

/// (stop_timeout_atom, actor_id, seq): a child's shutdown timeout elapsed.
using stop_timeout_atom = caf::atom_constant<caf::atom("sup_stopto")>;
/// (sample_atom): periodic self-message sampling the mailbox depth.
using sample_atom = caf::atom_constant<caf::atom("sup_sample")>;

/// Calls spec.start; on success monitors the child from `self` and tracks it
/// by kind. An invalid handle without error becomes supervisor::invalid_start.
caf::expected<caf::actor> start_one(caf::event_based_actor* self, const child_spec& spec,
                                    const child_key& key, const std::string& supervisor_name);

/// OTP restart rule for one exit.
bool should_restart(restart_type restart, const caf::error& reason) noexcept;

/// Sends the first stop signal: exit(kill) if brutal, else exit(user_shutdown).
/// Returns true if the caller must arm a shutdown timer (bounded timeout).
bool send_stop(caf::event_based_actor* self, const caf::actor& child, const shutdown_policy& p);

/// Logs one child exit: abnormal exits once at error level with the
/// supervisor, child id, key and reason; normal exits at debug level.
void log_child_exit(const std::string& supervisor_name, const child_spec& spec,
                    const child_key& key, const caf::error& reason);

/// Per-supervisor metrics and its row in the supervision tree.
class supervisor_metrics {
public:
  supervisor_metrics(const std::string& name, const std::string& parent,
                     const std::string& strategy);
  ~supervisor_metrics();
  supervisor_metrics(const supervisor_metrics&) = delete;
  supervisor_metrics& operator=(const supervisor_metrics&) = delete;

  void restarted();
  void set_children(uint64_t n) noexcept;
  /// Samples self's mailbox into herald_mailbox_depth{actor=<name>}.
  void sample_mailbox(caf::event_based_actor* self);
  /// Removes the tree row (idempotent); call from on_exit.
  void close();

private:
  metrics::counter& restarts_;
  metrics::gauge& mailbox_depth_;
  tree_entry* entry_;
};

}  // namespace herald::supervision::detail
