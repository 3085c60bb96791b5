// SPDX-License-Identifier: Apache-2.0
#pragma once
// Message interface shared by all herald supervisors (static, dynamic, partition).
// Sent by any actor or by the blocking helpers in supervisor.hpp / dynamic_supervisor.hpp; handled
// on the supervisor's thread. Invariant: every request gets exactly one reply (value or
// caf::error); none blocks the supervisor.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>

#include "runtime/supervision/child_spec.hpp"

namespace herald::supervision {

/// (start_child_atom, child_spec_ptr, child_key) -> caf::actor | error.
/// Dynamic supervisors only: starts one child (for supervisor-type children
/// the reply waits until the child supervisor has started its own children).
/// Errors: start function error, invalid_start, shutting_down.
using start_child_atom = caf::atom_constant<caf::atom("start_chld")>;

/// (terminate_child_atom, caf::actor) -> unit | error. Dynamic supervisors
/// only: stops the child with its shutdown policy and forgets it (no restart);
/// replies after the child has exited. Errors: no_such_child.
using terminate_child_atom = caf::atom_constant<caf::atom("term_chld")>;

/// (which_children_atom) -> std::vector<child_info>, in start order for
/// static supervisors, unordered for dynamic ones.
using which_children_atom = caf::atom_constant<caf::atom("which_chld")>;

/// (count_children_atom) -> child_counts.
using count_children_atom = caf::atom_constant<caf::atom("count_chld")>;

/// (ready_atom) -> unit | error. Replies once the supervisor has started all
/// its initial children, or the error that made its start fail.
using ready_atom = caf::atom_constant<caf::atom("sup_ready")>;

/// One child as reported by which_children. `handle` is invalid while a
/// static child is not running (e.g. a transient child that exited normally).
struct child_info {
  std::string id;
  child_key key;
  caf::actor handle;
  child_type type = child_type::worker;
  restart_type restart = restart_type::permanent;
  std::string kind;
};

/// OTP count_children: specs, running children, and running by type.
struct child_counts {
  uint64_t specs = 0;
  uint64_t active = 0;
  uint64_t supervisors = 0;
  uint64_t workers = 0;
};

}  // namespace herald::supervision

// Local-only message payloads (never serialised across nodes).
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::supervision::child_spec_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::supervision::child_key)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::supervision::child_info)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<herald::supervision::child_info>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::supervision::child_counts)
