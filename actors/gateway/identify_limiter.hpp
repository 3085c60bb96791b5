// SPDX-License-Identifier: Apache-2.0
#pragma once
// Identify budget per user (all of a user's tokens share it), Discord's session start
// limit: at most `max_concurrency` Identifies per 5 s window and at most `daily_total` per
// 24 h. One per gateway_server, shared by its io threads and by REST's GET /gateway/bot
// (which reports budget_of()); thread-safe (one mutex, held for a map lookup).
// Invariant: what budget_of() reports is what take() enforces: a client that identifies at
// most max_concurrency times per 5 s and at most `remaining` times before `reset_after` is
// never refused.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace herald::gateway {

struct identify_limit_options {
  /// Identifies per user per window (Discord's max_concurrency); 0: unlimited.
  uint32_t max_concurrency = 0;
  std::chrono::milliseconds window{5000};
  /// Identifies per user per day (Discord's session_start_limit.total); 0: unlimited.
  uint32_t daily_total = 0;
  std::chrono::milliseconds day{std::chrono::hours{24}};
};

/// What GET /gateway/bot reports as session_start_limit.
struct identify_budget {
  uint64_t total = 0;
  uint64_t remaining = 0;
  int64_t reset_after_ms = 0;
  uint32_t max_concurrency = 1;
};

class identify_limiter {
public:
  using clock = std::chrono::steady_clock;
  enum class verdict {
    allowed,
    too_fast,         ///< max_concurrency Identifies in the current 5 s window already
    daily_exhausted,  ///< daily_total Identifies in the current day already
  };

  explicit identify_limiter(identify_limit_options opts) : opts_(opts) {}

  /// Counts one Identify of `user_id` unless refused.
  verdict take(uint64_t user_id, clock::time_point now = clock::now());

  /// The user's budget now. Unlimited parts report a total of 2^31-1 and max_concurrency 1.
  identify_budget budget_of(uint64_t user_id, clock::time_point now = clock::now()) const;

  const identify_limit_options& options() const noexcept { return opts_; }

private:
  struct usage {
    clock::time_point window_start{};
    uint32_t in_window = 0;
    clock::time_point day_start{};
    uint32_t in_day = 0;
  };
  /// `u` with expired windows restarted at `now` (a copy: budget_of does not write).
  usage current(usage u, clock::time_point now) const;

  const identify_limit_options opts_;
  mutable std::mutex mutex_;
  std::unordered_map<uint64_t, usage> users_;
  clock::time_point last_sweep_{};
};

}  // namespace herald::gateway
