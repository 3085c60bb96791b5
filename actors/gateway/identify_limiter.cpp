// SPDX-License-Identifier: Apache-2.0
#include "actors/gateway/identify_limiter.hpp"

#include <algorithm>

namespace herald::gateway {

namespace {

constexpr uint64_t unlimited_total = (uint64_t{1} << 31) - 1;

}  // namespace

identify_limiter::usage identify_limiter::current(usage u, clock::time_point now) const {
  if (u.in_window == 0 || now - u.window_start >= opts_.window) {
    u.window_start = now;
    u.in_window = 0;
  }
  if (u.in_day == 0 || now - u.day_start >= opts_.day) {
    u.day_start = now;
    u.in_day = 0;
  }
  return u;
}

identify_limiter::verdict identify_limiter::take(uint64_t user_id, clock::time_point now) {
  if (opts_.max_concurrency == 0 && opts_.daily_total == 0) {
    return verdict::allowed;
  }
  std::lock_guard<std::mutex> guard{mutex_};
  // Users whose day ended carry no information: drop them now and then (bounded memory).
  if (now - last_sweep_ > std::chrono::minutes{1}) {
    last_sweep_ = now;
    for (auto it = users_.begin(); it != users_.end();) {
      it = now - it->second.day_start >= opts_.day ? users_.erase(it) : std::next(it);
    }
  }
  auto& stored = users_[user_id];
  auto u = current(stored, now);
  if (opts_.daily_total != 0 && u.in_day >= opts_.daily_total) {
    stored = u;
    return verdict::daily_exhausted;
  }
  if (opts_.max_concurrency != 0 && u.in_window >= opts_.max_concurrency) {
    stored = u;
    return verdict::too_fast;
  }
  ++u.in_window;
  ++u.in_day;
  stored = u;
  return verdict::allowed;
}

identify_budget identify_limiter::budget_of(uint64_t user_id, clock::time_point now) const {
  identify_budget out;
  out.max_concurrency = opts_.max_concurrency != 0 ? opts_.max_concurrency : 1;
  if (opts_.daily_total == 0) {
    out.total = out.remaining = unlimited_total;
    out.reset_after_ms = 0;
    return out;
  }
  out.total = opts_.daily_total;
  std::lock_guard<std::mutex> guard{mutex_};
  auto it = users_.find(user_id);
  auto u = current(it != users_.end() ? it->second : usage{}, now);
  out.remaining = opts_.daily_total - std::min(u.in_day, opts_.daily_total);
  auto left = u.in_day == 0 ? opts_.day : opts_.day - (now - u.day_start);
  out.reset_after_ms = std::chrono::duration_cast<std::chrono::milliseconds>(left).count();
  return out;
}

}  // namespace herald::gateway
