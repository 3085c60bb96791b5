// SPDX-License-Identifier: Apache-2.0
// Invariant 6: a crashing guild restarts alone with its state reloaded from
// the store; its sessions stay subscribed and miss nothing; other guilds'
// sessions never notice; a publish in flight during the crash is either acked
// and delivered or refused with an error.
#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>

#include <caf/send.hpp>

#include "test/actors/dispatch/dispatch_fixture.hpp"

namespace herald::dispatch_test {
namespace {

constexpr uint64_t guild_one = uint64_t{600} << 22;
constexpr uint64_t owner = 50;
constexpr uint64_t alice = 51;
constexpr uint64_t bob = 52;
constexpr uint64_t carol = 53;

// A second guild in the same guild-supervisor partition as guild_one, so a
// crash that escalated to the partition would hit it too.
uint64_t neighbour_of(const dispatch::services_ptr& svc, uint64_t guild) {
  auto home = svc->guild_supervisor.partition_index(supervision::child_key{guild});
  for (uint64_t id = guild + (uint64_t{1} << 22);; id += uint64_t{1} << 22) {
    if (svc->guild_supervisor.partition_index(supervision::child_key{id}) == home) {
      return id;
    }
  }
}

caf::actor live_guild(dispatch_env& env, uint64_t guild) {
  auto g = dispatch::guild_actor_of(env.svc, guild, 10s);
  if (!g) {
    FAIL("guild_actor_of: " << dispatch::describe(g.error()));
  }
  return *g;
}

// Kills the guild actor and waits until a new incarnation is registered.
void crash_guild(dispatch_env& env, uint64_t guild) {
  auto old = live_guild(env, guild);
  caf::anon_send_exit(old, caf::exit_reason::kill);
  REQUIRE(eventually([&] {
    auto now = env.svc->guilds.lookup(guild);
    if (!now) {
      now = live_guild(env, guild);  // or started on demand
    }
    return now && now != old;
  }));
}

std::vector<uint64_t> publish_messages(dispatch_env& env, uint64_t guild, uint64_t channel,
                                       size_t n) {
  std::vector<uint64_t> ids;
  for (size_t i = 0; i < n; ++i) {
    ids.push_back(next_message_id());
    publish_ok(env.svc, message_create(guild, channel, owner, ids.back(), "c"));
  }
  return ids;
}

}  // namespace

TEST_CASE("a_killed_guild_restarts_with_its_state_and_its_sessions_miss_nothing") {
  dispatch_env env;
  const uint64_t guild_two = neighbour_of(env.svc, guild_one);
  guild_seed{guild_one, owner}
      .add_member(alice)
      .add_member(bob)
      .add_channel(guild_one + 1)
      .save(*env.storage);
  guild_seed{guild_two, owner}.add_member(carol).add_channel(guild_two + 1).save(*env.storage);
  auto a = open_subscribed(env.svc, session_for(alice, {guild_one}));
  auto b = open_subscribed(env.svc, session_for(bob, {guild_one}));
  auto c = open_subscribed(env.svc, session_for(carol, {guild_two}));

  auto before = publish_messages(env, guild_one, guild_one + 1, 5);
  publish_messages(env, guild_two, guild_two + 1, 5);
  // State changed before the crash must be there after it (reloaded).
  domain::channel created;
  created.id_ = guild_one + 2;
  created.guild_id_ = guild_one;
  created.name_ = "created-before-crash";
  publish_ok(env.svc, channel_create(guild_one, created));

  crash_guild(env, guild_one);

  auto after = publish_messages(env, guild_one, guild_one + 1, 5);
  uint64_t in_new_channel = next_message_id();
  publish_ok(env.svc, message_create(guild_one, created.id_, alice, in_new_channel, "new"));
  after.push_back(in_new_channel);
  publish_messages(env, guild_two, guild_two + 1, 5);

  std::vector<uint64_t> expected = before;
  expected.insert(expected.end(), after.begin(), after.end());
  for (auto* s : {a.get(), b.get()}) {
    REQUIRE(s->drain_until_count(2 + 5 + 1 + 6));
    CHECK(s->frames().size() == 14);
    require_contiguous(s->frames());
    CHECK(message_ids(s->frames()) == expected);
    CHECK(count_type(s->frames(), "CHANNEL_CREATE") == 1);
    CHECK(count_type(s->frames(), "GUILD_CREATE") == 1);
  }
  // The other guild's session saw its ten messages and nothing else.
  REQUIRE(c->drain_until_count(12));
  CHECK(c->frames().size() == 12);
  require_contiguous(c->frames());
  CHECK(count_type(c->frames(), "MESSAGE_CREATE") == 10);
}

TEST_CASE("a_publish_in_flight_during_a_guild_crash_is_either_acked_and_delivered_or_refused") {
  dispatch_env env;
  const uint64_t guild_two = neighbour_of(env.svc, guild_one);
  guild_seed{guild_one, owner}.add_member(alice).add_channel(guild_one + 1).save(*env.storage);
  guild_seed{guild_two, owner}.add_member(carol).add_channel(guild_two + 1).save(*env.storage);
  auto a = open_subscribed(env.svc, session_for(alice, {guild_one}));
  auto c = open_subscribed(env.svc, session_for(carol, {guild_two}));

  std::mutex mutex;
  std::set<uint64_t> acked;
  std::set<uint64_t> refused;
  std::vector<std::string> refusals;
  std::atomic<size_t> attempts{0};
  auto producer = [&](size_t n) {
    for (size_t i = 0; i < n; ++i) {
      uint64_t id = next_message_id();
      auto ack =
          dispatch::publish(env.svc, message_create(guild_one, guild_one + 1, owner, id, "f"), 10s);
      attempts.fetch_add(1);
      std::lock_guard<std::mutex> guard{mutex};
      if (ack) {
        acked.insert(id);
      } else {
        refused.insert(id);
        refusals.push_back(dispatch::describe(ack.error()));
      }
    }
  };
  std::atomic<bool> other_ok{true};
  std::vector<uint64_t> other_ids;
  std::thread other{[&] {
    for (size_t i = 0; i < 120; ++i) {
      other_ids.push_back(next_message_id());
      auto ack = dispatch::publish(
          env.svc, message_create(guild_two, guild_two + 1, owner, other_ids.back(), "o"), 10s);
      if (!ack) {
        other_ok = false;
      }
    }
  }};
  std::thread p1{producer, 150};
  std::thread p2{producer, 150};
  // Two crashes while producers run (the second within the restart period).
  REQUIRE(eventually([&] { return attempts.load() >= 40; }));
  crash_guild(env, guild_one);
  REQUIRE(eventually([&] { return attempts.load() >= 150; }));
  crash_guild(env, guild_one);
  p1.join();
  p2.join();
  other.join();

  INFO("refusals: " << refusals.size() << (refusals.empty() ? "" : ", first: " + refusals[0]));
  CHECK(acked.size() + refused.size() == 300);
  for (const auto& why : refusals) {
    CAPTURE(why);
    CHECK((why.find("unavailable") != std::string::npos ||
           why.find("receiver_down") != std::string::npos ||
           why.find("broken_promise") != std::string::npos ||
           why.find("request_timeout") != std::string::npos));
  }
  // Wait until every acked message reached the session; then nothing else
  // may arrive that was not published, and nothing twice.
  REQUIRE(a->drain_until([&](const std::vector<json>& frames) {
    auto got = message_ids(frames);
    std::set<uint64_t> seen(got.begin(), got.end());
    return std::includes(seen.begin(), seen.end(), acked.begin(), acked.end());
  }));
  // A last acked event flushes anything still in flight behind the crash.
  uint64_t last = next_message_id();
  publish_ok(env.svc, message_create(guild_one, guild_one + 1, owner, last, "last"));
  REQUIRE(a->drain_until([&](const std::vector<json>& frames) {
    auto got = message_ids(frames);
    return !got.empty() && got.back() == last;
  }));
  require_contiguous(a->frames());
  auto got = message_ids(a->frames());
  got.pop_back();
  std::set<uint64_t> unique(got.begin(), got.end());
  CHECK(unique.size() == got.size());
  for (auto id : got) {
    CAPTURE(id);
    CHECK((acked.count(id) == 1 || refused.count(id) == 1));
  }
  // Acked ones persisted; refused ones never delivered must not be stored.
  for (auto id : refused) {
    auto stored = env.storage->get_message(id);
    bool delivered = unique.count(id) == 1;
    CAPTURE(id);
    CHECK(stored.ok() == delivered);
  }

  // The neighbour guild never noticed.
  CHECK(other_ok.load());
  REQUIRE(c->drain_until_count(2 + other_ids.size()));
  CHECK(c->frames().size() == 2 + other_ids.size());
  require_contiguous(c->frames());
  CHECK(message_ids(c->frames()) == other_ids);
}

}  // namespace herald::dispatch_test

namespace herald::dispatch_test {

TEST_CASE("sessions_subscribing_while_their_guild_crashes_still_get_the_guild") {
  dispatch_env env;
  constexpr size_t sessions = 24;
  guild_seed seed{guild_one, owner};
  seed.add_channel(guild_one + 1);
  for (size_t i = 0; i < sessions; ++i) {
    seed.add_member(2000 + i);
  }
  seed.save(*env.storage);
  auto first = open_subscribed(env.svc, session_for(2000, {guild_one}));

  // Kill whatever guild incarnation is live, a few times, while sessions open.
  std::atomic<bool> opening{true};
  std::atomic<int> kills{0};
  std::thread killer{[&] {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (opening.load() && kills.load() < 8 && std::chrono::steady_clock::now() < deadline) {
      if (auto g = env.svc->guilds.lookup(guild_one)) {
        caf::anon_send_exit(g, caf::exit_reason::kill);
        kills.fetch_add(1);
      }
      std::this_thread::sleep_for(1ms);
    }
  }};
  std::vector<std::unique_ptr<session_probe>> probes;
  for (size_t i = 1; i < sessions; ++i) {
    probes.push_back(open_probe(env.svc, session_for(2000 + i, {guild_one})));
  }
  opening = false;
  killer.join();
  CAPTURE(kills.load());

  size_t subscribed = 0;
  for (auto& p : probes) {
    if (p->drain_until_count(2, 10s) && type_of(p->frames()[1]) == "GUILD_CREATE") {
      ++subscribed;
    }
  }
  CHECK(subscribed == probes.size());
  uint64_t id = next_message_id();
  REQUIRE(publish_retrying(env.svc, message_create(guild_one, guild_one + 1, owner, id, "all")));
  for (auto& p : probes) {
    if (p->frames().size() >= 2) {
      CHECK(p->drain_until(
          [&](const std::vector<json>& f) {
            return !message_ids(f).empty() && message_ids(f).back() == id;
          },
          10s));
      require_contiguous(p->frames());
    }
  }
}

}  // namespace herald::dispatch_test
