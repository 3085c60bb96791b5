// SPDX-License-Identifier: Apache-2.0
#pragma once
// What open_session stages for the session supervisor's start function.
// Created on the opener's thread, consumed once on the supervisor's thread.
// Invariant: taken at most once (sessions are temporary children).

#include "actors/services/services.hpp"
#include "actors/session/session_actor.hpp"

namespace herald::dispatch {

struct staged_sessions::entry {
  session::session_params params;
  session::session_output_ptr output;
};

}  // namespace herald::dispatch
