// SPDX-License-Identifier: Apache-2.0
#pragma once
// Static OTP supervisor: a fixed list of children started in order, restarted by strategy, stopped
// in reverse order. Runs as its own CAF actor; it monitors (never links) its children and kills any
// still alive when it exits for any reason. Invariant: restarts beyond the intensity (default 1 in
// 5 s) stop all children in reverse order and end the supervisor with
// supervisor::max_restarts_exceeded, so its parent decides.

#include <chrono>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "runtime/supervision/child_spec.hpp"
#include "runtime/supervision/errors.hpp"
#include "runtime/supervision/messages.hpp"
#include "runtime/supervision/restart_window.hpp"

namespace herald::supervision {

/// Which children restart when one child needs a restart.
enum class strategy {
  one_for_one,   ///< only that child
  one_for_all,   ///< all children: the others are stopped (reverse order), then all start in order
  rest_for_one,  ///< that child and the ones started after it (stopped in reverse, started in
                 ///< order)
};

std::string to_string(strategy x);

/// Default wait of the blocking helpers below: 5 s.
inline constexpr std::chrono::milliseconds default_call_timeout{5000};

/// A static supervisor.
struct supervisor_spec {
  std::string name = "supervisor";  ///< label in metrics, logs and the tree
  strategy restart_strategy = strategy::one_for_one;
  restart_intensity intensity;       ///< default 1 restart in 5 s (OTP)
  std::vector<child_spec> children;  ///< start order
  std::string parent;                ///< parent supervisor's name; set by supervisor_child()
  /// How often it samples its own mailbox into herald_mailbox_depth; 1 s.
  std::chrono::milliseconds mailbox_sample_period{1000};
};

/// Spawns the supervisor and returns at once. The supervisor starts its
/// children in order on its own thread; ask it (ready_atom) or use
/// start_supervisor() to learn whether that worked. If a child fails to
/// start, the already started ones are stopped in reverse order and the
/// supervisor exits with supervisor::start_failed. Nothing is linked or
/// monitored to the caller.
caf::actor spawn_supervisor(caf::actor_system& sys, supervisor_spec spec);

/// Spawns the supervisor and blocks (at most `timeout`) until its children
/// have started. Returns the supervisor, or the start error (start_failed
/// naming the child and its reason), or supervisor::timeout. For non-actor
/// callers only: never call it from inside an actor.
caf::expected<caf::actor> start_supervisor(
    caf::actor_system& sys, supervisor_spec spec,
    std::chrono::milliseconds timeout = default_call_timeout);

/// A child spec that starts `spec` as a nested supervisor (type supervisor,
/// shutdown infinity, restart permanent, kind "supervisor", id = spec.name).
/// The parent waits for the child's ready reply before starting the next
/// sibling, so a child supervisor's start failure fails the parent's start.
child_spec supervisor_child(supervisor_spec spec);

/// Stops a supervisor of any kind the OTP way (exit user_shutdown: children
/// stopped in reverse order) and blocks until it has exited or `timeout`
/// passed; then kills it. Returns the supervisor's exit reason description
/// error, or none if it stopped normally. Non-actor callers only.
caf::error stop_supervisor(caf::actor_system& sys, const caf::actor& sup,
                           std::chrono::milliseconds timeout = default_call_timeout);

/// Blocking which_children / count_children for any supervisor kind; errors
/// with the request error or supervisor::timeout. Non-actor callers only.
caf::expected<std::vector<child_info>> which_children(
    caf::actor_system& sys, const caf::actor& sup,
    std::chrono::milliseconds timeout = default_call_timeout);
caf::expected<child_counts> count_children(
    caf::actor_system& sys, const caf::actor& sup,
    std::chrono::milliseconds timeout = default_call_timeout);

}  // namespace herald::supervision
