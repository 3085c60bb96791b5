// SPDX-License-Identifier: Apache-2.0
// The Identify budget: what it enforces is what GET /gateway/bot reports.
#include <catch2/catch.hpp>

#include "actors/gateway/identify_limiter.hpp"

namespace {

using namespace herald::gateway;
using namespace std::chrono_literals;
using verdict = identify_limiter::verdict;

const identify_limiter::clock::time_point t0 = identify_limiter::clock::time_point{} + 1000s;

TEST_CASE("max_concurrency_identifies_per_5_s_per_user_then_too_fast_until_the_window_ends") {
  identify_limit_options o;
  o.max_concurrency = 2;
  identify_limiter l{o};
  CHECK(l.take(1, t0) == verdict::allowed);
  CHECK(l.take(1, t0 + 1s) == verdict::allowed);
  CHECK(l.take(1, t0 + 2s) == verdict::too_fast);
  CHECK(l.take(1, t0 + 4999ms) == verdict::too_fast);
  CHECK(l.take(2, t0 + 2s) == verdict::allowed);  // another user has its own budget
  CHECK(l.take(1, t0 + 5s) == verdict::allowed);
  CHECK(l.budget_of(1, t0).max_concurrency == 2);
}

TEST_CASE("the_daily_total_is_enforced_and_reported_with_what_remains_and_when_it_resets") {
  identify_limit_options o;
  o.daily_total = 3;
  identify_limiter l{o};
  auto fresh = l.budget_of(7, t0);
  CHECK(fresh.total == 3);
  CHECK(fresh.remaining == 3);
  CHECK(fresh.reset_after_ms == 86400000);
  CHECK(fresh.max_concurrency == 1);  // unlimited concurrency is reported as 1
  for (int i = 0; i < 3; ++i) {
    CHECK(l.budget_of(7, t0 + 1s).remaining == static_cast<uint64_t>(3 - i));
    CHECK(l.take(7, t0 + 1s) == verdict::allowed);
  }
  auto spent = l.budget_of(7, t0 + 2s);
  CHECK(spent.remaining == 0);
  CHECK(spent.reset_after_ms == 86400000 - 1000);
  CHECK(l.take(7, t0 + 2s) == verdict::daily_exhausted);
  CHECK(l.take(7, t0 + 1s + 24h) == verdict::allowed);  // a new day
  CHECK(l.budget_of(7, t0 + 1s + 24h).remaining == 2);
}

TEST_CASE("without_limits_nothing_is_refused_and_an_unlimited_budget_is_reported") {
  identify_limiter l{identify_limit_options{}};
  for (int i = 0; i < 1000; ++i) {
    REQUIRE(l.take(1, t0) == verdict::allowed);
  }
  auto b = l.budget_of(1, t0);
  CHECK(b.total == 2147483647);
  CHECK(b.remaining == 2147483647);
  CHECK(b.max_concurrency == 1);
}

}  // namespace
