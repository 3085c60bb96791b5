// SPDX-License-Identifier: Apache-2.0
#pragma once
// The one bounded polling wait of the test suite. Called from a test's own thread; the condition
// may read state that actors or io threads change (it must synchronise that read itself).
// Invariant: eventually() never waits longer than its timeout plus one step and one last check.
// Prefer waiting on an explicit signal (a message, a down/exit, event_recorder::wait_for) where
// the code under test gives one; poll only what has no signal (a gauge, a file, a port).

#include <chrono>
#include <functional>

namespace herald::testing {

/// Default bound of every wait in the tests: 20 s (a loaded CI machine, never a timing claim).
inline constexpr std::chrono::milliseconds default_wait{20000};
/// Default pause between two checks of an in-process condition.
inline constexpr std::chrono::milliseconds default_poll_step{2};
/// Pause between two checks that cost a request or a process probe (a daemon's /readyz).
inline constexpr std::chrono::milliseconds slow_poll_step{50};

/// Checks `condition` every `step` until it holds (true) or `timeout` passed; then checks it once
/// more and returns that result.
bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = default_wait,
                std::chrono::milliseconds step = default_poll_step);

}  // namespace herald::testing
