// SPDX-License-Identifier: Apache-2.0
#pragma once
// Restart intensity: at most max_restarts restarts within period (OTP defaults 1 in 5 s).
// Owned by one supervisor and used only on its actor thread; the clock is passed in so tests need
// no sleeps. Invariant: holds at most max_restarts + 1 timestamps, all within the last period.

#include <chrono>
#include <deque>

namespace herald::supervision {

/// Restart intensity limit. Defaults are OTP's: 1 restart in 5 seconds.
struct restart_intensity {
  int max_restarts = 1;
  std::chrono::milliseconds period{5000};
};

/// Sliding window of recent restarts.
class restart_window {
public:
  using clock = std::chrono::steady_clock;

  explicit restart_window(restart_intensity limit = {}) : limit_(limit) {}

  /// Records one restart at `now`; false if that exceeds the intensity, i.e.
  /// more than max_restarts restarts fall within the last period.
  bool record(clock::time_point now);

  const restart_intensity& limit() const noexcept { return limit_; }

private:
  restart_intensity limit_;
  std::deque<clock::time_point> recent_;  // oldest first
};

}  // namespace herald::supervision
