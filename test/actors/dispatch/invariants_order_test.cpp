// SPDX-License-Identifier: Apache-2.0
// Invariant 2: every session sees one guild's events in the same order, the
// guild order the producers' acks report, under concurrent producers.
#include <algorithm>
#include <map>
#include <mutex>

#include "test/actors/dispatch/dispatch_fixture.hpp"

namespace herald::dispatch_test {
namespace {

constexpr uint64_t guild_id = uint64_t{300} << 22;
constexpr uint64_t channel_id = guild_id + 1;
constexpr uint64_t owner = 20;

// Runs `producers` threads publishing `per_producer` messages each, with
// `sessions` sessions (users 1000…, the first user holding two sessions)
// subscribed, and checks that all of them saw the acked order.
void check_one_order(dispatch::dispatch_config dc, size_t sessions, size_t producers,
                     size_t per_producer) {
  dispatch_env env{dc};
  guild_seed seed{guild_id, owner};
  seed.add_channel(channel_id);
  for (size_t i = 0; i < sessions; ++i) {
    seed.add_member(1000 + i);
  }
  seed.save(*env.storage);
  std::vector<std::unique_ptr<session_probe>> probes;
  for (size_t i = 0; i < sessions; ++i) {
    uint64_t user = 1000 + (i == 1 ? 0 : i);  // user 1000 has two sessions
    probes.push_back(open_subscribed(env.svc, session_for(user, {guild_id})));
  }

  std::mutex mutex;
  std::map<uint64_t, uint64_t> id_by_order;  // guild order → message id
  std::vector<std::string> failures;
  std::vector<std::thread> threads;
  for (size_t p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      for (size_t k = 0; k < per_producer; ++k) {
        uint64_t id = next_message_id();
        uint64_t author = 1000 + (p + k) % sessions;
        auto ack = dispatch::publish(
            env.svc, message_create(guild_id, channel_id, author, id, "m" + std::to_string(k)),
            10s);
        std::lock_guard<std::mutex> guard{mutex};
        if (ack) {
          id_by_order.emplace(ack->guild_order, id);
        } else {
          failures.push_back(dispatch::describe(ack.error()));
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  INFO("first failure: " << (failures.empty() ? "" : failures.front()));
  REQUIRE(failures.empty());
  const size_t total = producers * per_producer;
  REQUIRE(id_by_order.size() == total);
  std::vector<uint64_t> acked_order;
  for (const auto& [order, id] : id_by_order) {
    acked_order.push_back(id);
  }

  for (size_t i = 0; i < probes.size(); ++i) {
    INFO("session " << i);
    REQUIRE(probes[i]->drain_until_count(2 + total));
    REQUIRE(probes[i]->frames().size() == 2 + total);
    require_contiguous(probes[i]->frames());
    CHECK(message_ids(probes[i]->frames()) == acked_order);
  }
}

}  // namespace

TEST_CASE("every_session_sees_concurrent_producers_events_in_the_acked_guild_order") {
  check_one_order(dispatch::dispatch_config{}, 12, 4, 60);
}

TEST_CASE("sessions_spread_over_relay_partitions_see_one_guild_order") {
  dispatch::dispatch_config dc;
  dc.relay_partition_threshold = 1;  // partition even this small guild
  dc.relay_partitions = 3;
  dc.max_commit_batch = 4;  // many small group commits
  check_one_order(dc, 16, 4, 50);
}

TEST_CASE("guild_order_in_acks_is_gapless_and_matches_publish_completion") {
  dispatch_env env;
  guild_seed{guild_id, owner}.add_channel(channel_id).save(*env.storage);
  uint64_t last = 0;
  for (int i = 0; i < 20; ++i) {
    auto ack = publish_ok(env.svc, message_create(guild_id, channel_id, owner, next_message_id(),
                                                  "n" + std::to_string(i)));
    if (last != 0) {
      CHECK(ack.guild_order == last + 1);
    }
    last = ack.guild_order;
    auto body = json::parse(std::string(ack.payload()));
    CHECK(body.at("content") == "n" + std::to_string(i));
  }
}

}  // namespace herald::dispatch_test
