// SPDX-License-Identifier: Apache-2.0
#pragma once
// Dynamic supervisor (OTP DynamicSupervisor): one_for_one over children started at run time from
// shared specs. Runs as its own CAF actor; children are monitored (not linked) and killed if it
// exits; helpers below are for non-actor (blocking, bounded) and actor (async request) callers.
// Invariant: a child is in exactly one of {running, terminating}; bookkeeping per child is one
// hash-map node holding the handle, a shared spec pointer and the key.

#include <chrono>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/expected.hpp>
#include <caf/send.hpp>

#include "runtime/supervision/child_spec.hpp"
#include "runtime/supervision/errors.hpp"
#include "runtime/supervision/messages.hpp"
#include "runtime/supervision/restart_window.hpp"
#include "runtime/supervision/supervisor.hpp"

namespace herald::supervision {

struct dynamic_supervisor_spec {
  std::string name = "dynamic_supervisor";  ///< label in metrics, logs and the tree
  restart_intensity intensity;              ///< default 1 restart in 5 s (OTP)
  std::string parent;                       ///< set by dynamic_supervisor_child()
  /// How often it samples its own mailbox into herald_mailbox_depth (also
  /// sampled on which/count requests); default 1 s.
  std::chrono::milliseconds mailbox_sample_period{1000};
};

/// Spawns an empty dynamic supervisor; ready at once. Not linked or
/// monitored to the caller. On exit(user_shutdown) it stops all children
/// concurrently (each with its own stop signal; after the longest bounded
/// shutdown timeout among them the rest are killed), then exits.
caf::actor spawn_dynamic_supervisor(caf::actor_system& sys, dynamic_supervisor_spec spec);

/// Child spec starting a dynamic supervisor under another supervisor
/// (id = spec.name, type supervisor, shutdown infinity, kind "supervisor").
child_spec dynamic_supervisor_child(dynamic_supervisor_spec spec);

/// Blocking start_child for non-actor callers: waits at most `timeout`.
/// Returns the child (monitored by `sup`) or the start error / timeout.
caf::expected<caf::actor> start_child(caf::actor_system& sys, const caf::actor& sup,
                                      child_spec_ptr spec, child_key key = {},
                                      std::chrono::milliseconds timeout = default_call_timeout);

/// Blocking terminate_child: stops `child` by its shutdown policy, without
/// restart; returns once it has exited. Errors: no_such_child, timeout.
caf::error terminate_child(caf::actor_system& sys, const caf::actor& sup, const caf::actor& child,
                           std::chrono::milliseconds timeout = default_call_timeout);

/// Fire-and-forget start_child (anonymous send, reply dropped): for bulk
/// starts whose outcome is observed by count_children or metrics.
inline void cast_start_child(const caf::actor& sup, child_spec_ptr spec, child_key key = {}) {
  caf::anon_send(sup, start_child_atom::value, std::move(spec), std::move(key));
}

/// Async start_child for actor callers: `.then([](caf::actor child) {...},
/// [](caf::error& err) {...})`; the handlers run on the caller's thread.
template <class Self>
auto request_start_child(Self* self, const caf::actor& sup, child_spec_ptr spec, child_key key = {},
                         std::chrono::milliseconds timeout = default_call_timeout) {
  return self->request(sup, timeout, start_child_atom::value, std::move(spec), std::move(key));
}

/// Async terminate_child for actor callers; replies caf::ok_atom or an error.
template <class Self>
auto request_terminate_child(Self* self, const caf::actor& sup, const caf::actor& child,
                             std::chrono::milliseconds timeout = default_call_timeout) {
  return self->request(sup, timeout, terminate_child_atom::value, child);
}

}  // namespace herald::supervision
