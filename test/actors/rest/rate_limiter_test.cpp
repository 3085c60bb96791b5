// SPDX-License-Identifier: Apache-2.0
// The per-user token bucket behind REST 429s, driven with explicit times.
#include <chrono>

#include <catch2/catch.hpp>

#include "actors/rest/rate_limiter.hpp"

using herald::rest::rate_limit_options;
using herald::rest::rate_limiter;
using namespace std::chrono_literals;

TEST_CASE("a_bucket_allows_its_burst_refuses_the_next_request_and_refills_over_time") {
  rate_limiter limiter{rate_limit_options{5, 2}};  // 5 at once, 2 per second
  auto t0 = rate_limiter::clock::time_point{} + 1h;
  for (uint32_t i = 0; i < 5; ++i) {
    auto d = limiter.take(7, t0);
    REQUIRE(d.allowed);
    REQUIRE(d.limit == 5);
    REQUIRE(d.remaining == 4 - i);
  }
  auto refused = limiter.take(7, t0);
  REQUIRE_FALSE(refused.allowed);
  REQUIRE(refused.remaining == 0);
  REQUIRE(refused.retry_after_s == Approx(0.5));
  REQUIRE(refused.reset_after_s == Approx(2.5));
  // Half a second later one token is back; after three seconds the bucket is full.
  REQUIRE(limiter.take(7, t0 + 500ms).allowed);
  REQUIRE_FALSE(limiter.take(7, t0 + 600ms).allowed);
  auto later = limiter.take(7, t0 + 10s);
  REQUIRE(later.allowed);
  REQUIRE(later.remaining == 4);
}

TEST_CASE("buckets_are_per_user_and_a_zero_burst_disables_limiting") {
  rate_limiter limiter{rate_limit_options{1, 1}};
  auto t0 = rate_limiter::clock::time_point{} + 1h;
  REQUIRE(limiter.take(1, t0).allowed);
  REQUIRE_FALSE(limiter.take(1, t0).allowed);
  REQUIRE(limiter.take(2, t0).allowed);
  REQUIRE(limiter.take(1, t0).bucket != limiter.take(2, t0).bucket);

  rate_limiter off{rate_limit_options{0, 0}};
  for (int i = 0; i < 1000; ++i) {
    REQUIRE(off.take(1, t0).allowed);
  }
}

TEST_CASE("refusals_carry_retry_after_and_every_decision_the_x_ratelimit_headers") {
  rate_limiter limiter{rate_limit_options{1, 0.25}};
  auto t0 = rate_limiter::clock::time_point{} + 1h;
  herald::net::header_list ok_headers;
  rate_limiter::add_headers(limiter.take(3, t0), ok_headers);
  herald::net::header_list refused_headers;
  rate_limiter::add_headers(limiter.take(3, t0), refused_headers);
  auto value = [](const herald::net::header_list& h, const std::string& name) {
    for (const auto& [k, v] : h) {
      if (k == name) {
        return v;
      }
    }
    return std::string{"<absent>"};
  };
  REQUIRE(value(ok_headers, "X-RateLimit-Limit") == "1");
  REQUIRE(value(ok_headers, "X-RateLimit-Remaining") == "0");
  REQUIRE(value(ok_headers, "Retry-After") == "<absent>");
  REQUIRE(value(refused_headers, "Retry-After") == "4");  // 1 token at 0.25/s
  REQUIRE(value(refused_headers, "X-RateLimit-Reset-After") == "4.000");
  // One bucket per user over every route: Discord's global limit.
  REQUIRE(value(refused_headers, "X-RateLimit-Scope") == "global");
  REQUIRE(value(refused_headers, "X-RateLimit-Global") == "true");
  REQUIRE(value(ok_headers, "X-RateLimit-Global") == "<absent>");
  REQUIRE(value(refused_headers, "X-RateLimit-Bucket") != "<absent>");
}
