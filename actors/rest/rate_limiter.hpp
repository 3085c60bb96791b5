// SPDX-License-Identifier: Apache-2.0
#pragma once
// Per-user token buckets for the REST API (Discord-style X-RateLimit-* headers). One bucket
// per user spans every route: it is Discord's global limit (50 requests/s per bot), so a
// refusal says `global: true` with X-RateLimit-Global. herald has no per-route buckets.
// One per mounted REST API (rest_context), shared by every io and CAF thread (one mutex).
// Invariant: a user never gets more than `burst` requests at once nor more than
// `per_second` per second sustained; the headers describe exactly that bucket.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "runtime/net/http_server.hpp"

namespace herald::rest {

struct rate_limit_options {
  /// Bucket size: requests a user may make back to back. 0 disables rate limiting.
  double burst = 50;
  /// Refill rate (Discord's global limit is 50 requests per second per bot).
  double per_second = 50;
};

/// The outcome of one take(), with everything the headers need.
struct rate_decision {
  bool allowed = true;
  uint32_t limit = 0;        ///< X-RateLimit-Limit (the burst)
  uint32_t remaining = 0;    ///< X-RateLimit-Remaining after this request
  double reset_after_s = 0;  ///< X-RateLimit-Reset-After: until the bucket is full again
  double retry_after_s = 0;  ///< refused: until one request is allowed again
  std::string bucket;        ///< X-RateLimit-Bucket: an opaque id of the user's bucket
};

class rate_limiter {
public:
  using clock = std::chrono::steady_clock;

  explicit rate_limiter(rate_limit_options opts) : opts_(opts) {}

  bool enabled() const { return opts_.burst > 0 && opts_.per_second > 0; }

  /// Takes one token from `user_id`'s bucket at time `now`.
  rate_decision take(uint64_t user_id, clock::time_point now = clock::now());

  /// Appends the X-RateLimit-* headers (and Retry-After when refused) to `headers`.
  static void add_headers(const rate_decision& d, net::header_list& headers);

private:
  struct bucket {
    double tokens = 0;
    clock::time_point updated;
  };
  rate_limit_options opts_;
  std::mutex mutex_;
  std::unordered_map<uint64_t, bucket> buckets_;
  clock::time_point last_sweep_{};
};

}  // namespace herald::rest
