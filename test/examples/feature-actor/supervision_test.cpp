// SPDX-License-Identifier: Apache-2.0
// The counters as supervised, registered actors: one per channel, found by
// key, restarted by their partition supervisor with the documented state
// semantics (memory only: a restarted counter starts empty), and counted in
// herald_messages_handled_total{kind="reaction_counter"}.
#include <set>
#include <thread>
#include <vector>

#include <caf/send.hpp>

#include "runtime/metrics/actor_metrics.hpp"
#include "runtime/metrics/metrics.hpp"
#include "runtime/supervision/supervisor.hpp"
#include "test/examples/feature-actor/reactions_fixture.hpp"

namespace herald::reactions_test {

TEST_CASE("counter_actors_are_found_by_key_in_the_registry_one_per_channel") {
  reactions_env env;
  const auto& rxs = env.box.reactions();
  const uint64_t m = uint64_t{1} << 46;
  const uint64_t secret = m + 1;
  env.box.post_message(guild_id, general, owner, m, "race");
  env.box.post_message(guild_id, hidden, owner, secret, "quiet");

  // Eight threads race to react in one channel: one counter serves them all.
  constexpr uint64_t racers = 8;
  std::vector<std::thread> threads;
  std::vector<caf::actor> seen(racers);
  std::vector<bool> ok(racers, false);
  for (uint64_t i = 0; i < racers; ++i) {
    threads.emplace_back([&, i] {
      auto counter = rx::counter_of(rxs, general);
      seen[i] = counter ? *counter : caf::actor{};
      ok[i] = static_cast<bool>(rx::add_reaction(rxs, general, m, 1000 + i, unicode("👍")));
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  auto in_registry = rxs->counters->lookup(general);
  REQUIRE(in_registry);
  for (uint64_t i = 0; i < racers; ++i) {
    CHECK(ok[i]);
    CHECK(seen[i] == in_registry);
  }
  CHECK(env.counts(general, m).of(unicode("👍")) == racers);

  env.add(hidden, secret, owner, unicode("👀"));
  auto other = rxs->counters->lookup(hidden);
  REQUIRE(other);
  CHECK(other != in_registry);
  auto children = rxs->counters->supervisor().count_children(env.box.system());
  REQUIRE(children);
  CHECK(children->active == 2);
  CHECK(rxs->counters->actors().size() == 2);
}

TEST_CASE("a_crashed_counter_restarts_under_its_supervisor_with_its_stored_counts") {
  reactions_env env;
  const auto& rxs = env.box.reactions();
  auto alice_session = env.box.open_session(alice, {guild_id}, sb::all_intents());
  const uint64_t m = uint64_t{1} << 47;
  const uint64_t marker = m + 1;
  env.box.post_message(guild_id, general, owner, m, "before the crash");
  CHECK(env.add(general, m, alice, unicode("👍")) == 1);
  CHECK(env.add(general, m, bob, unicode("👍")) == 2);

  auto partition = rxs->counters->supervisor().partition_index(supervision::child_key{general});
  auto& restarts = metrics::registry::global().get_counter(
      "herald_supervisor_restarts_total", "Child restarts performed by a supervisor.",
      {{"supervisor", "reactions." + std::to_string(partition)}});
  auto restarts_before = restarts.value();
  auto first = rxs->counters->lookup(general);
  REQUIRE(first);
  caf::anon_send_exit(first, caf::exit_reason::kill);

  // The supervisor starts a new counter under the same key.
  caf::actor second;
  REQUIRE(sb::eventually([&] {
    second = rxs->counters->lookup(general);
    return second && second != first;
  }));
  CHECK(restarts.value() == restarts_before + 1);
  // Documented semantics: the counts are in the store, loaded by the new counter.
  CHECK(env.counts(general, m).of(unicode("👍")) == 2);
  CHECK(env.add(general, m, alice, unicode("👍")) == 2);  // a repeat: nothing dispatched
  // The restarted counter works, and its dispatches take the same path.
  CHECK(env.add(general, m, owner, unicode("👍")) == 3);
  CHECK(rxs->counters->lookup(general) == second);
  env.box.post_message(guild_id, general, owner, marker, "marker");
  REQUIRE(drain_until_message(*alice_session, marker));
  CHECK(alice_session->of_type("MESSAGE_REACTION_ADD").size() == 3);
}

TEST_CASE("counter_messages_are_counted_in_messages_handled") {
  reactions_env env;
  auto& handled = metrics::messages_handled(rx::counter_kind);
  auto before = handled.value();
  const uint64_t m = uint64_t{1} << 48;
  env.box.post_message(guild_id, general, owner, m, "count me");
  env.add(general, m, alice, unicode("👍"));
  env.add(general, m, alice, unicode("👍"));
  env.remove(general, m, alice, unicode("👍"));
  env.counts(general, m);
  CHECK(handled.value() - before == 4);
}

}  // namespace herald::reactions_test
