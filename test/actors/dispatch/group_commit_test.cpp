// SPDX-License-Identifier: Apache-2.0
// Guild actors and the store writer (docs/dispatch.md "Group commit"): guilds hand their batches
// to the writer, which commits many guilds' batches in one transaction; every ack follows the
// commit holding its event (invariant 7); one guild's failing batch fails only that guild; guild
// order survives; a full writer queue gives busy and loses nothing acked; a guild that dies with
// a batch in flight restarts only after that batch is settled, and never dispatches it twice.
// Faults come from faulty_store (dispatch_fixture.hpp): a gate that holds group commits, and
// a countdown that fails the Nth one.
#include <algorithm>

#include <caf/send.hpp>

#include "test/actors/dispatch/dispatch_fixture.hpp"

namespace herald::dispatch_test {
namespace {

constexpr uint64_t first_guild = uint64_t{900} << 22;
constexpr uint64_t owner = 70;
constexpr uint64_t alice = 71;

uint64_t guild_n(int i) {
  return first_guild + (static_cast<uint64_t>(i) << 22);
}
uint64_t channel_of(uint64_t guild) {
  return guild + 1;
}

void seed_guilds(dispatch_env& env, int n) {
  for (int i = 0; i < n; ++i) {
    guild_seed{guild_n(i), owner}
        .add_member(alice)
        .add_channel(channel_of(guild_n(i)))
        .save(*env.storage);
  }
}

void require_acked(const caf::expected<guild::publish_ack>& r) {
  if (!r) {
    FAIL("publish failed: " << dispatch::describe(r.error()));
  }
}

// Starts every guild's actor (so that a later publish does not wait for a load).
void start_guilds(dispatch_env& env, int n) {
  for (int i = 0; i < n; ++i) {
    REQUIRE(dispatch::guild_actor_of(env.svc, guild_n(i), 10s));
  }
}

}  // namespace

TEST_CASE("many_guilds_committing_at_once_share_one_transaction") {
  dispatch_env env;
  constexpr int guilds = 20;
  seed_guilds(env, guilds);
  start_guilds(env, guilds);
  const auto before = env.svc->writer->totals();
  // The first guild's commit holds the writer; the others queue behind it.
  env.storage->close_commits();
  std::vector<uint64_t> ids;
  std::vector<std::unique_ptr<async_publish>> pubs;
  for (int i = 0; i < guilds; ++i) {
    ids.push_back(next_message_id());
    pubs.push_back(std::make_unique<async_publish>(
        env.svc, message_create(guild_n(i), channel_of(guild_n(i)), alice, ids.back(), "hi")));
  }
  REQUIRE(eventually([&] { return env.svc->writer->held() == guilds; }));
  // Nothing is acknowledged while no commit returned.
  for (auto id : ids) {
    CHECK_FALSE(env.storage->get_message(id).ok());
  }
  env.storage->open_commits();
  for (int i = 0; i < guilds; ++i) {
    auto& r = pubs[static_cast<size_t>(i)]->get();
    require_acked(r);
    CHECK(env.storage->get_message(ids[static_cast<size_t>(i)]).ok());
  }
  const auto after = env.svc->writer->totals();
  CHECK(after.batches - before.batches == guilds);
  CHECK(after.events - before.events == guilds);
  // One round for the first guild's batch, one (or very few) for the 19 queued behind it.
  CHECK(after.commits - before.commits < after.batches - before.batches);
  CHECK(after.commits - before.commits <= 3);
}

TEST_CASE("a_guild_whose_batch_fails_in_a_group_commit_fails_alone") {
  dispatch_env env;
  seed_guilds(env, 3);
  start_guilds(env, 3);
  auto bystander = open_subscribed(env.svc, session_for(alice, {guild_n(1)}));
  // A message id already stored: the store refuses guild 0's batch (constraint) at commit.
  const uint64_t taken = next_message_id();
  domain::message existing;
  existing.id_ = taken;
  existing.channel_id_ = channel_of(guild_n(2));
  existing.guild_id_ = guild_n(2);
  existing.author_id_ = owner;
  existing.content_ = "already here";
  REQUIRE(env.storage->insert_message(existing));

  env.storage->close_commits();
  const uint64_t warmup = next_message_id();
  async_publish holder(env.svc,
                       message_create(guild_n(2), channel_of(guild_n(2)), alice, warmup, "w"));
  REQUIRE(eventually([&] { return env.storage->commits_waiting() == 1; }));
  const uint64_t good = next_message_id();
  async_publish bad_pub(env.svc,
                        message_create(guild_n(0), channel_of(guild_n(0)), alice, taken, "dup"));
  async_publish good_pub(env.svc,
                         message_create(guild_n(1), channel_of(guild_n(1)), alice, good, "ok"));
  REQUIRE(eventually([&] { return env.svc->writer->held() == 3; }));
  const auto commits_before = env.storage->group_commits();
  env.storage->open_commits();

  auto& bad = bad_pub.get();
  REQUIRE_FALSE(bad);
  CHECK(dispatch::is_error(bad.error(), dispatch::dispatch_errc::persist_failed));
  require_acked(good_pub.get());
  require_acked(holder.get());
  // The failing and the good batch were in the same transaction (the round after the holder).
  CHECK(env.storage->group_commits() - commits_before == 2);
  CHECK(env.storage->get_message(good).ok());
  CHECK(env.storage->get_message(taken).value().content_ == "already here");
  REQUIRE(bystander->drain_until(
      [&](const std::vector<json>& f) { return message_ids(f) == std::vector<uint64_t>{good}; }));
  // The failed guild restarts from the store and takes new events.
  REQUIRE(publish_retrying(
      env.svc, message_create(guild_n(0), channel_of(guild_n(0)), alice, next_message_id(), "x")));
}

TEST_CASE("a_guilds_events_keep_their_order_while_batches_are_in_flight") {
  dispatch_env env;
  seed_guilds(env, 2);
  start_guilds(env, 2);
  auto s = open_subscribed(env.svc, session_for(alice, {guild_n(0)}));
  // Many producers at once: while one batch is in flight the guild stages the next ones.
  constexpr int n = 60;
  std::vector<std::unique_ptr<async_publish>> pubs;
  for (int i = 0; i < n; ++i) {
    pubs.push_back(std::make_unique<async_publish>(
        env.svc, message_create(guild_n(i % 2), channel_of(guild_n(i % 2)), alice,
                                next_message_id(), "m" + std::to_string(i))));
  }
  std::vector<std::pair<uint64_t, uint64_t>> acked;  // guild order, message id (guild 0)
  for (int i = 0; i < n; ++i) {
    auto& r = pubs[static_cast<size_t>(i)]->get();
    require_acked(r);
    if (i % 2 == 0) {
      acked.emplace_back(
          r->guild_order,
          std::stoull(json::parse(std::string(r->payload())).at("id").get<std::string>()));
    }
  }
  std::sort(acked.begin(), acked.end());
  std::vector<uint64_t> expected;
  for (auto& [order, id] : acked) {
    expected.push_back(id);
  }
  REQUIRE(s->drain_until(
      [&](const std::vector<json>& f) { return message_ids(f).size() >= expected.size(); }));
  // Delivered in guild order, which is commit order.
  CHECK(message_ids(s->frames()) == expected);
  require_contiguous(s->frames());
}

TEST_CASE("an_ack_follows_the_commit_holding_it_and_a_failed_group_commit_acks_nothing") {
  dispatch_env env;
  seed_guilds(env, 4);
  start_guilds(env, 4);
  auto s = open_subscribed(env.svc, session_for(alice, {guild_n(0)}));
  env.storage->fail_group_commit(3);
  std::vector<std::pair<uint64_t, bool>> outcomes;  // message id, acked
  for (int round = 0; round < 6; ++round) {
    std::vector<std::unique_ptr<async_publish>> pubs;
    std::vector<uint64_t> ids;
    for (int g = 0; g < 4; ++g) {
      ids.push_back(next_message_id());
      pubs.push_back(std::make_unique<async_publish>(
          env.svc, message_create(guild_n(g), channel_of(guild_n(g)), alice, ids.back(), "r")));
    }
    for (size_t i = 0; i < pubs.size(); ++i) {
      auto& r = pubs[i]->get();
      outcomes.emplace_back(ids[i], static_cast<bool>(r));
      if (!r) {
        CHECK(dispatch::is_retryable(r.error()));
      }
    }
  }
  int failed = 0;
  for (auto& [id, acked] : outcomes) {
    // Acked exactly when durable; a failed commit leaves nothing behind.
    CHECK(acked == env.storage->get_message(id).ok());
    failed += acked ? 0 : 1;
  }
  CHECK(failed >= 1);
  // The session of guild 0 saw exactly guild 0's acked messages, in order, each once.
  std::vector<uint64_t> acked0;
  for (size_t i = 0; i < outcomes.size(); i += 4) {
    if (outcomes[i].second) {
      acked0.push_back(outcomes[i].first);
    }
  }
  REQUIRE(s->drain_until(
      [&](const std::vector<json>& f) { return message_ids(f).size() >= acked0.size(); }));
  CHECK(message_ids(s->frames()) == acked0);
}

TEST_CASE("a_full_writer_queue_refuses_publishes_with_busy_and_loses_nothing_acked") {
  dispatch::dispatch_config dc;
  dc.writer.queue_batches = 1;
  dispatch_env env(dc);
  seed_guilds(env, 2);
  start_guilds(env, 2);
  env.storage->close_commits();
  const uint64_t first = next_message_id();
  async_publish holder(env.svc,
                       message_create(guild_n(0), channel_of(guild_n(0)), alice, first, "a"));
  REQUIRE(eventually([&] { return env.svc->writer->held() == 1; }));
  const uint64_t refused_id = next_message_id();
  auto refused = dispatch::publish(
      env.svc, message_create(guild_n(1), channel_of(guild_n(1)), alice, refused_id, "b"), 10s);
  REQUIRE_FALSE(refused);
  CHECK(dispatch::is_error(refused.error(), dispatch::dispatch_errc::unavailable));
  CHECK(dispatch::is_retryable(refused.error()));
  CHECK(dispatch::describe(refused.error()).find("busy") != std::string::npos);
  env.storage->open_commits();
  require_acked(holder.get());
  CHECK(env.storage->get_message(first).ok());
  CHECK_FALSE(env.storage->get_message(refused_id).ok());
  // Refused before anything changed: the same publish succeeds once the queue has room.
  REQUIRE(publish_retrying(
      env.svc, message_create(guild_n(1), channel_of(guild_n(1)), alice, refused_id, "b")));
  CHECK(env.storage->get_message(refused_id).ok());
}

TEST_CASE("a_guild_killed_with_a_batch_in_flight_restarts_after_it_and_dispatches_it_once") {
  dispatch_env env;
  seed_guilds(env, 1);
  const uint64_t g = guild_n(0);
  auto s = open_subscribed(env.svc, session_for(alice, {g}));
  auto old = dispatch::guild_actor_of(env.svc, g, 10s);
  REQUIRE(old);
  env.storage->close_commits();
  // A channel created in the batch in flight: a restart that loaded before its commit would not
  // know it, and refuse the message below.
  domain::channel ch;
  ch.id_ = g + 50;
  ch.guild_id_ = g;
  ch.name_ = "in-flight";
  async_publish in_flight(env.svc, channel_create(g, ch));
  REQUIRE(eventually([&] { return env.storage->commits_waiting() == 1; }));
  caf::anon_send_exit(*old, caf::exit_reason::kill);
  auto& died = in_flight.get();
  REQUIRE_FALSE(died);
  CHECK(dispatch::is_retryable(died.error()));
  // The next publish starts a new incarnation, which waits for the old batch to settle.
  REQUIRE(eventually([&] { return env.svc->guilds.lookup(g) != *old; }));
  const uint64_t after = next_message_id();
  async_publish next(env.svc, message_create(g, ch.id_, owner, after, "after the restart"));
  REQUIRE(eventually([&] { return env.svc->writer->idle_waiters() >= 1; }));
  env.storage->open_commits();
  auto& r = next.get();
  require_acked(r);  // the channel committed in flight is known: the load came after its commit
  CHECK(env.storage->get_message(after).ok());
  auto loaded = env.storage->load_guild(g);
  REQUIRE(loaded);
  CHECK(loaded.value().find_channel(ch.id_) != nullptr);
  // The in-flight CHANNEL_CREATE reached the session at most once (the dead incarnation never
  // dispatched it; the new one loaded it as state), and the guild goes on.
  const uint64_t marker = next_message_id();
  publish_ok(env.svc, message_create(g, channel_of(g), owner, marker, "marker"));
  REQUIRE(s->drain_until([&](const std::vector<json>& f) {
    auto ids = message_ids(f);
    return !ids.empty() && ids.back() == marker;
  }));
  CHECK(count_type(s->frames(), "CHANNEL_CREATE") <= 1);
  auto ids = message_ids(s->frames());
  CHECK(std::count(ids.begin(), ids.end(), after) <= 1);
  require_contiguous(s->frames());
}

}  // namespace herald::dispatch_test

namespace herald::dispatch_test {

TEST_CASE("a_message_committed_after_its_guild_died_is_dispatched_once_by_the_successor") {
  dispatch_env env;
  seed_guilds(env, 1);
  const uint64_t g = guild_n(0);
  auto s = open_subscribed(env.svc, session_for(alice, {g}));
  auto old = dispatch::guild_actor_of(env.svc, g, 10s);
  REQUIRE(old);
  env.storage->close_commits();
  const uint64_t orphan = next_message_id();
  async_publish in_flight(env.svc, message_create(g, channel_of(g), owner, orphan, "orphan"));
  REQUIRE(eventually([&] { return env.storage->commits_waiting() == 1; }));
  caf::anon_send_exit(*old, caf::exit_reason::kill);
  auto& died = in_flight.get();
  REQUIRE_FALSE(died);
  CHECK(dispatch::is_retryable(died.error()));
  REQUIRE(eventually([&] { return env.svc->guilds.lookup(g) != *old; }));
  env.storage->open_commits();
  // The batch committed after its incarnation died: stored, and delivered by the successor
  // before anything newer, exactly once.
  const uint64_t marker = next_message_id();
  require_acked(publish_retrying(env.svc, message_create(g, channel_of(g), owner, marker, "m")));
  CHECK(env.storage->get_message(orphan).ok());
  REQUIRE(s->drain_until([&](const std::vector<json>& f) {
    auto ids = message_ids(f);
    return !ids.empty() && ids.back() == marker;
  }));
  CHECK(message_ids(s->frames()) == std::vector<uint64_t>{orphan, marker});
  require_contiguous(s->frames());
}

}  // namespace herald::dispatch_test
