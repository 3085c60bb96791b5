// SPDX-License-Identifier: Apache-2.0
// Invariant 7: a producer gets success only after the event is persisted and
// ordered; when persistence fails it gets persist_failed (retryable) and no
// session receives the event. Failures are injected with faulty_store, a test
// double that wraps the real SQLite store and can be told to fail apply().
#include "test/actors/dispatch/dispatch_fixture.hpp"

namespace herald::dispatch_test {
namespace {

constexpr uint64_t guild_id = uint64_t{700} << 22;
constexpr uint64_t channel_id = guild_id + 1;
constexpr uint64_t owner = 60;
constexpr uint64_t alice = 61;

std::unique_ptr<store::sqlite_store> second_connection(const dispatch_env& env) {
  auto opened = store::sqlite_store::open(store_options(env.dir));
  if (!opened) {
    FAIL("second connection: " << opened.error().message_);
  }
  return std::move(opened).value();
}

}  // namespace

TEST_CASE("an_acked_message_is_visible_to_a_second_store_connection") {
  dispatch_env env;
  guild_seed{guild_id, owner}.add_member(alice).add_channel(channel_id).save(*env.storage);
  auto other = second_connection(env);
  for (int i = 0; i < 10; ++i) {
    uint64_t id = next_message_id();
    auto ack = publish_ok(
        env.svc, message_create(guild_id, channel_id, alice, id, "persisted " + std::to_string(i)));
    auto stored = other->get_message(id);
    REQUIRE(stored.ok());
    CHECK(stored.value().content_ == "persisted " + std::to_string(i));
    CHECK(stored.value().author_id_ == alice);
    CHECK(json::parse(std::string(ack.payload())).at("id") == std::to_string(id));
  }
}

TEST_CASE("an_acked_channel_change_is_what_a_restarted_guild_loads") {
  dispatch_env env;
  guild_seed{guild_id, owner}.add_member(alice).add_channel(channel_id).save(*env.storage);
  domain::channel ch;
  ch.id_ = guild_id + 9;
  ch.guild_id_ = guild_id;
  ch.name_ = "durable";
  publish_ok(env.svc, channel_create(guild_id, ch));
  auto other = second_connection(env);
  auto loaded = other->load_guild(guild_id);
  REQUIRE(loaded.ok());
  REQUIRE(loaded.value().find_channel(ch.id_) != nullptr);
  CHECK(loaded.value().find_channel(ch.id_)->name_ == "durable");
}

TEST_CASE("a_failed_commit_returns_persist_failed_and_reaches_no_session") {
  dispatch_env env;
  guild_seed{guild_id, owner}.add_member(alice).add_channel(channel_id).save(*env.storage);
  auto s = open_subscribed(env.svc, session_for(alice, {guild_id}));
  auto other = second_connection(env);
  uint64_t before = next_message_id();
  publish_ok(env.svc, message_create(guild_id, channel_id, owner, before, "before"));

  env.storage->fail_apply(true);
  uint64_t lost = next_message_id();
  auto failed =
      dispatch::publish(env.svc, message_create(guild_id, channel_id, owner, lost, "lost"), 10s);
  REQUIRE_FALSE(failed);
  CHECK(dispatch::is_error(failed.error(), dispatch::dispatch_errc::persist_failed));
  CHECK(dispatch::is_retryable(failed.error()));
  CHECK(env.storage->failed_applies() >= 1);
  CHECK_FALSE(other->get_message(lost).ok());

  // The store recovers; the guild restarts from what was committed.
  env.storage->fail_apply(false);
  uint64_t after = next_message_id();
  REQUIRE(publish_retrying(env.svc, message_create(guild_id, channel_id, owner, after, "after")));
  REQUIRE(s->drain_until([&](const std::vector<json>& f) {
    auto ids = message_ids(f);
    return !ids.empty() && ids.back() == after;
  }));
  CHECK(message_ids(s->frames()) == std::vector<uint64_t>{before, after});
  require_contiguous(s->frames());
  CHECK_FALSE(other->get_message(lost).ok());
  // A retry of the failed publish now succeeds (it was never half done).
  publish_ok(env.svc, message_create(guild_id, channel_id, owner, lost, "lost, retried"));
  CHECK(other->get_message(lost).ok());
}

TEST_CASE("a_failed_commit_leaves_no_state_change_behind") {
  // A channel created in a failed commit must not exist after the guild
  // restarts: the in-memory change is discarded with the incarnation.
  dispatch_env env;
  guild_seed{guild_id, owner}.add_member(alice).add_channel(channel_id).save(*env.storage);
  auto s = open_subscribed(env.svc, session_for(alice, {guild_id}));
  domain::channel ch;
  ch.id_ = guild_id + 5;
  ch.guild_id_ = guild_id;
  ch.name_ = "never";
  env.storage->fail_apply(true);
  auto failed = dispatch::publish(env.svc, channel_create(guild_id, ch), 10s);
  REQUIRE_FALSE(failed);
  CHECK(dispatch::is_error(failed.error(), dispatch::dispatch_errc::persist_failed));
  env.storage->fail_apply(false);
  // Posting in the channel that was never committed is refused.
  auto post =
      publish_retrying(env.svc, message_create(guild_id, ch.id_, owner, next_message_id(), "x"));
  REQUIRE_FALSE(post);
  CHECK(dispatch::is_error(post.error(), dispatch::dispatch_errc::invalid_event));
  uint64_t ok_id = next_message_id();
  publish_ok(env.svc, message_create(guild_id, channel_id, owner, ok_id, "ok"));
  REQUIRE(s->drain_until([&](const std::vector<json>& f) { return !message_ids(f).empty(); }));
  CHECK(count_type(s->frames(), "CHANNEL_CREATE") == 0);
  CHECK(message_ids(s->frames()) == std::vector<uint64_t>{ok_id});
  require_contiguous(s->frames());
}

}  // namespace herald::dispatch_test
