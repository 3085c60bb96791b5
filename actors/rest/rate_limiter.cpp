// SPDX-License-Identifier: Apache-2.0
#include "actors/rest/rate_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace herald::rest {

namespace {

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", std::max(0.0, s));
  return buf;
}

}  // namespace

rate_decision rate_limiter::take(uint64_t user_id, clock::time_point now) {
  rate_decision d;
  d.limit = static_cast<uint32_t>(opts_.burst);
  char id[32];
  // Opaque but stable per user (a multiplicative hash, not the id itself).
  std::snprintf(id, sizeof id, "u%016llx",
                static_cast<unsigned long long>(user_id * 0x9E3779B97F4A7C15ull));
  d.bucket = id;
  if (!enabled()) {
    d.remaining = d.limit;
    return d;
  }
  std::lock_guard<std::mutex> guard{mutex_};
  // Full buckets carry no information: drop them now and then so memory stays bounded.
  if (now - last_sweep_ > std::chrono::minutes{1}) {
    last_sweep_ = now;
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      double elapsed = std::chrono::duration<double>(now - it->second.updated).count();
      if (it->second.tokens + elapsed * opts_.per_second >= opts_.burst) {
        it = buckets_.erase(it);
      } else {
        ++it;
      }
    }
  }
  auto [it, fresh] = buckets_.try_emplace(user_id);
  auto& b = it->second;
  if (fresh) {
    b.tokens = opts_.burst;
  } else {
    double elapsed = std::chrono::duration<double>(now - b.updated).count();
    b.tokens = std::min(opts_.burst, b.tokens + elapsed * opts_.per_second);
  }
  b.updated = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    d.allowed = true;
  } else {
    d.allowed = false;
    d.retry_after_s = (1.0 - b.tokens) / opts_.per_second;
  }
  d.remaining = static_cast<uint32_t>(std::floor(b.tokens));
  d.reset_after_s = (opts_.burst - b.tokens) / opts_.per_second;
  return d;
}

void rate_limiter::add_headers(const rate_decision& d, net::header_list& headers) {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  double epoch_s = std::chrono::duration<double>(now).count() + d.reset_after_s;
  headers.emplace_back("X-RateLimit-Limit", std::to_string(d.limit));
  headers.emplace_back("X-RateLimit-Remaining", std::to_string(d.remaining));
  headers.emplace_back("X-RateLimit-Reset", seconds_text(epoch_s));
  headers.emplace_back("X-RateLimit-Reset-After", seconds_text(d.reset_after_s));
  headers.emplace_back("X-RateLimit-Bucket", d.bucket);
  if (!d.allowed) {
    // One bucket per user over every route is Discord's global (per bot) limit.
    headers.emplace_back("X-RateLimit-Global", "true");
    headers.emplace_back("X-RateLimit-Scope", "global");
    // Retry-After in whole seconds, rounded up (HTTP's delta-seconds).
    headers.emplace_back("Retry-After",
                         std::to_string(static_cast<long>(std::ceil(d.retry_after_s))));
  }
}

}  // namespace herald::rest
