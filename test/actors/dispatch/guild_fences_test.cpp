// SPDX-License-Identifier: Apache-2.0
// guild_fences: a fenced guild is held off while the ring stays the same and its hold lasts;
// the hold starts short and doubles for a guild fenced again soon after, up to the maximum, and
// starts short again once the guild stayed unfenced for a while.
#include <catch2/catch.hpp>

#include "actors/services/guild_fences.hpp"

using namespace herald;
using namespace std::chrono_literals;
using fences = dispatch::guild_fences;

TEST_CASE("a_fenced_guild_is_held_until_its_hold_passes_or_the_ring_changes") {
  fences f;
  const auto t0 = fences::clock::time_point{} + 1h;
  CHECK(f.fenced(7, 3, t0, "fenced: x", 1s, 10s) == 1s);
  auto held = f.holding(7, 3, t0 + 500ms);
  REQUIRE(held);
  CHECK(held->reason == "fenced: x");
  CHECK_FALSE(f.holding(7, 3, t0 + 1s));     // the hold passed
  CHECK_FALSE(f.holding(7, 4, t0 + 500ms));  // another ring generation
  CHECK_FALSE(f.holding(8, 3, t0));          // another guild
}

TEST_CASE("a_guild_fenced_again_soon_after_doubles_its_hold_up_to_the_maximum") {
  fences f;
  auto t = fences::clock::time_point{} + 1h;
  CHECK(f.fenced(7, 1, t, "r", 1s, 10s) == 1s);
  t += 1500ms;  // fenced again 0.5 s after its hold ended
  CHECK(f.fenced(7, 1, t, "r", 1s, 10s) == 2s);
  t += 3s;
  CHECK(f.fenced(7, 1, t, "r", 1s, 10s) == 4s);
  t += 5s;
  CHECK(f.fenced(7, 1, t, "r", 1s, 10s) == 8s);
  t += 9s;
  CHECK(f.fenced(7, 1, t, "r", 1s, 10s) == 10s);  // capped
  t += 11s;
  CHECK(f.fenced(7, 1, t, "r", 1s, 10s) == 10s);
  CHECK(f.holding(7, 1, t + 9s));

  t += 10s + 10s;  // unfenced for a whole maximum after its hold: short again
  CHECK(f.fenced(7, 1, t, "r", 1s, 10s) == 1s);
  CHECK(f.fenced(9, 1, t, "r", 1s, 10s) == 1s);  // per guild
}

TEST_CASE("a_zero_maximum_hold_never_holds") {
  fences f;
  const auto t0 = fences::clock::time_point{} + 1h;
  CHECK(f.fenced(7, 1, t0, "r", 1s, 0s) == 0s);
  CHECK_FALSE(f.holding(7, 1, t0));
}
