// SPDX-License-Identifier: Apache-2.0
#pragma once
// Supervision error codes (CAF error category "supervisor") and rendering of
// exit reasons. Pure functions, usable from any thread.
// Invariant: every supervision failure is one supervision_errc with a context string naming the
// supervisor/child.

#include <cstdint>
#include <string>

#include <caf/error.hpp>

namespace herald::supervision {

/// Reasons a supervisor reports or exits with.
enum class supervision_errc : uint8_t {
  start_failed = 1,           ///< a child failed to start during supervisor init
  invalid_start = 2,          ///< a start function returned no actor and no error
  max_restarts_exceeded = 3,  ///< restart intensity exceeded; supervisor gave up (escalation)
  no_such_child = 4,          ///< terminate_child: the actor is not a child here
  shutting_down = 5,          ///< the supervisor is stopping and accepts no work
  timeout = 6,                ///< a blocking helper stopped waiting for a reply
};

/// CAF error category atom of supervision_errc ("supervisor").
caf::atom_value supervision_category() noexcept;

std::string to_string(supervision_errc x);

/// Builds a caf::error of category "supervisor" with `detail` as context.
caf::error make_error(supervision_errc x, std::string detail = {});

/// True if `err` is the given supervision error.
bool is_error(const caf::error& err, supervision_errc x) noexcept;

/// True for exits that transient children are not restarted after: no error,
/// exit_reason::normal, exit_reason::user_shutdown (OTP normal/shutdown).
bool is_normal_exit(const caf::error& err) noexcept;

/// Human-readable rendering without an actor system, e.g.
/// "exit_reason::kill", "sec::runtime_error: exception std::logic_error: boom",
/// "supervisor::max_restarts_exceeded: supervisor 'root' ...".
std::string describe(const caf::error& err);

}  // namespace herald::supervision
