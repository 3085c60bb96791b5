// SPDX-License-Identifier: Apache-2.0
// Guild ownership through the store (docs/cluster.md, "Guild ownership: epochs and fencing"):
// a guild claims itself when it starts and continues the guild order after the last committed
// one, across incarnations; once another node claims it, its next commit is fenced: its
// producers get the retryable unavailable (never an ack), the event is not stored, the
// incarnation stops, and it is not started again on this node while its fence hold lasts.
// Real guild actors and store writer on a real SQLite store (the writer's own thread makes the
// deterministic test coordinator unsuitable here); every wait is bounded.
#include <caf/send.hpp>

#include "runtime/metrics/metrics.hpp"
#include "test/actors/dispatch/dispatch_fixture.hpp"

namespace herald::dispatch_test {
namespace {

constexpr uint64_t guild_id = uint64_t{700} << 22;
constexpr uint64_t channel = 7001;
constexpr uint64_t owner = 70;
constexpr uint64_t other_node = 99;

uint64_t fenced_commits() {
  return metrics::registry::global()
      .get_counter("herald_guild_fenced_commits_total",
                   "Guild commits the store refused because another node claimed the guild "
                   "(fenced)")
      .value();
}

store::guild_owner owner_row(dispatch_env& env) {
  auto row = env.storage->guild_owner_of(guild_id);
  if (!row) {
    FAIL("guild_owner_of: " << row.error().message_);
  }
  return row.value();
}

void seed(dispatch_env& env) {
  guild_seed(guild_id, owner).add_channel(channel).save(*env.storage);
}

uint64_t post(dispatch_env& env, uint64_t message_id) {
  return publish_ok(env.svc, message_create(guild_id, channel, owner, message_id, "m")).guild_order;
}

// Kills the guild's incarnation and waits until it is gone from the registry.
void kill_guild(dispatch_env& env) {
  auto g = env.svc->guilds.lookup(guild_id);
  REQUIRE(g);
  caf::anon_send_exit(g, caf::exit_reason::kill);
  REQUIRE(eventually([&] { return !env.svc->guilds.lookup(guild_id); }));
}

}  // namespace

TEST_CASE("a_restarted_guild_continues_its_order_after_the_last_committed_one") {
  dispatch_env env;
  seed(env);
  CHECK(post(env, next_message_id()) == 1);
  CHECK(post(env, next_message_id()) == 2);
  CHECK(post(env, next_message_id()) == 3);
  CHECK(owner_row(env).epoch_ == 1);
  CHECK(owner_row(env).last_order_ == 3);

  kill_guild(env);
  // The new incarnation claims again and goes on from the store's last order, not from 0.
  CHECK(post(env, next_message_id()) == 4);
  CHECK(owner_row(env).epoch_ == 2);
  CHECK(owner_row(env).last_order_ == 4);
}

TEST_CASE("a_fenced_guild_refuses_its_producers_retryably_and_stays_off_this_node") {
  dispatch::dispatch_config dc;
  dc.fence_hold_first = std::chrono::hours(1);
  dc.fence_hold = std::chrono::hours(1);
  dispatch_env env(dc);
  seed(env);
  CHECK(post(env, next_message_id()) == 1);
  const auto fenced_before = fenced_commits();

  // Another node takes the guild in the store; this incarnation still believes it owns it.
  auto taken = env.storage->claim_guild(guild_id, other_node);
  REQUIRE(taken);
  REQUIRE(taken.value().epoch_ == 2);
  REQUIRE(env.svc->guilds.lookup(guild_id));

  const auto refused_id = next_message_id();
  auto refused =
      dispatch::publish(env.svc, message_create(guild_id, channel, owner, refused_id, "x"), 10s);
  REQUIRE_FALSE(refused);
  CHECK(dispatch::is_error(refused.error(), dispatch::dispatch_errc::unavailable));
  CHECK(dispatch::is_retryable(refused.error()));
  CHECK(env.storage->get_message(refused_id).error().code_ == store::store_errc::not_found);
  CHECK(fenced_commits() == fenced_before + 1);
  REQUIRE(eventually([&] { return !env.svc->guilds.lookup(guild_id); }));

  // Held off: publishes here keep getting unavailable and nothing takes the guild back.
  for (int i = 0; i < 3; ++i) {
    auto again = dispatch::publish(
        env.svc, message_create(guild_id, channel, owner, next_message_id(), "y"), 10s);
    REQUIRE_FALSE(again);
    CHECK(dispatch::is_error(again.error(), dispatch::dispatch_errc::unavailable));
  }
  CHECK_FALSE(env.svc->guilds.lookup(guild_id));
  CHECK(owner_row(env).epoch_ == 2);
  CHECK(owner_row(env).node_id_ == other_node);
  CHECK(owner_row(env).last_order_ == 1);
  CHECK(fenced_commits() == fenced_before + 1);  // counted once, not per refused publish
}

TEST_CASE("after_its_fence_hold_a_guild_is_claimed_again_and_continues_the_order") {
  dispatch::dispatch_config dc;
  dc.fence_hold = std::chrono::milliseconds(0);  // the ring decides at once (unclustered: here)
  dispatch_env env(dc);
  seed(env);
  CHECK(post(env, next_message_id()) == 1);
  CHECK(post(env, next_message_id()) == 2);

  // The other node committed up to order 5 under its claim.
  auto taken = env.storage->claim_guild(guild_id, other_node);
  REQUIRE(taken);
  store::write_batch theirs;
  theirs.add(store::write_op::upsert_user{domain::user{owner, "user70", false}});
  theirs.set_fence({guild_id, taken.value().epoch_, 5});
  REQUIRE(env.storage->apply(theirs));

  auto refused = dispatch::publish(
      env.svc, message_create(guild_id, channel, owner, next_message_id(), "x"), 10s);
  REQUIRE_FALSE(refused);
  CHECK(dispatch::is_retryable(refused.error()));

  // A producer retrying reaches a new incarnation, which claims the guild back.
  auto acked =
      publish_retrying(env.svc, message_create(guild_id, channel, owner, next_message_id(), "z"));
  REQUIRE(acked);
  CHECK(acked->guild_order == 6);
  CHECK(owner_row(env).epoch_ == 3);
  CHECK(owner_row(env).node_id_ == dc.node_id);
  CHECK(owner_row(env).last_order_ == 6);
}

}  // namespace herald::dispatch_test
