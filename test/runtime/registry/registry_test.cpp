// SPDX-License-Identifier: Apache-2.0
#include "runtime/registry/registry.hpp"
#include "runtime/metrics/metrics.hpp"
#include "test/runtime/registry/registry_test_util.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

using namespace herald::registry;
using namespace herald::registry::test;

TEST_CASE_METHOD(stepped_fixture, "registered_actor_is_removed_when_it_dies") {
  name_registry reg{"test_removal"};
  auto a = sys.spawn(idle_actor);
  REQUIRE_FALSE(reg.register_actor("a", a));
  CHECK(reg.lookup("a") == a);
  kill(a);
  CHECK(reg.size() == 0);
  CHECK_FALSE(reg.lookup("a"));
}

TEST_CASE_METHOD(stepped_fixture, "register_fails_with_key_taken_while_holder_lives") {
  name_registry reg{"test_conflict"};
  auto a = sys.spawn(idle_actor);
  auto b = sys.spawn(idle_actor);
  REQUIRE_FALSE(reg.register_actor("k", a));
  auto err = reg.register_actor("k", b);
  REQUIRE(err);
  CHECK(*err == registry_error::key_taken);
  CHECK(to_string(*err) == "key_taken");
  // Re-registering the same holder is a conflict too, as in Elixir.
  CHECK(reg.register_actor("k", a) == registry_error::key_taken);
  CHECK(reg.lookup("k") == a);
  kill(a);
  kill(b);
}

TEST_CASE_METHOD(stepped_fixture, "register_rejects_invalid_and_dead_actors") {
  id_registry reg{"test_dead"};
  CHECK(reg.register_actor(1, caf::actor{}) == registry_error::dead_actor);
  auto a = sys.spawn(idle_actor);
  kill(a);
  REQUIRE(terminated(a));
  CHECK(reg.register_actor(1, a) == registry_error::dead_actor);
  CHECK(reg.size() == 0);
}

TEST_CASE_METHOD(stepped_fixture, "unregister_with_actor_removes_only_a_matching_entry") {
  name_registry reg{"test_unregister"};
  auto a = sys.spawn(idle_actor);
  auto b = sys.spawn(idle_actor);
  REQUIRE_FALSE(reg.register_actor("k", a));
  CHECK_FALSE(reg.unregister("k", b));
  CHECK(reg.lookup("k") == a);
  CHECK(reg.unregister("k", a));
  CHECK_FALSE(reg.unregister("k"));
  REQUIRE_FALSE(reg.register_actor("k", b));
  // a's hook was detached; killing a must leave b's registration alone.
  kill(a);
  REQUIRE(terminated(a));
  CHECK(reg.lookup("k") == b);
  CHECK(reg.unregister("k"));
  CHECK(reg.size() == 0);
  kill(b);
}

// Regression: a late removal hook of a dead holder must not erase the newer
// registration that replaced it under the same key.
TEST_CASE_METHOD(stepped_fixture, "late_removal_of_old_holder_keeps_newer_registration") {
  name_registry reg{"test_newer"};
  auto old_holder = sys.spawn(idle_actor);
  auto newer = sys.spawn(idle_actor);
  REQUIRE_FALSE(reg.register_actor("k", old_holder));
  std::atomic<bool> replaced{false};
  std::atomic<bool> ran{false};
  // Attached after registering, so CAF runs it before the registry's hook
  // (attachables run newest first): the old entry is still in the map here.
  caf::actor_cast<caf::abstract_actor*>(old_holder)->attach_functor([&] {
    replaced = !reg.register_actor("k", newer).has_value();
    ran = true;
  });
  kill(old_holder);
  REQUIRE(ran);
  CHECK(replaced);
  CHECK(reg.size() == 1);
  CHECK(reg.lookup("k") == newer);
  kill(newer);
}

TEST_CASE_METHOD(stepped_fixture, "lookup_or_start_reports_start_failure") {
  name_registry reg{"test_start_fail"};
  auto res = reg.lookup_or_start(
      "k", []() -> caf::expected<caf::actor> { return caf::make_error(caf::sec::runtime_error); });
  REQUIRE_FALSE(res);
  CHECK(res.error() == registry_error::start_failed);
  CHECK(res.cause() == caf::sec::runtime_error);
  auto invalid = reg.lookup_or_start("k", [] { return caf::actor{}; });
  CHECK(invalid.error() == registry_error::start_failed);
  CHECK(reg.size() == 0);
}

// Regression (stale-pid race): between the actor's termination and the run
// of its removal hook the entry still exists; lookup_or_start must treat it
// as absent, start a fresh actor and swap it in.
TEST_CASE_METHOD(stepped_fixture, "lookup_or_start_never_returns_actor_whose_removal_is_pending") {
  name_registry reg{"test_stale"};
  std::atomic<int> starts{0};
  auto start = [&] {
    ++starts;
    return sys.spawn(idle_actor);
  };
  auto first = reg.lookup_or_start("k", start);
  REQUIRE(first.started());
  auto old_actor = first.actor();
  std::atomic<bool> ran{false};
  std::atomic<size_t> size_in_window{0};
  caf::actor in_window;
  caf::actor lookup_in_window{old_actor};
  caf::actor_cast<caf::abstract_actor*>(old_actor)->attach_functor([&] {
    // Runs after is_terminated_flag is set, before the registry's own hook.
    size_in_window = reg.size();
    lookup_in_window = reg.lookup("k");
    in_window = reg.lookup_or_start("k", start).actor();
    ran = true;
  });
  kill(old_actor);
  REQUIRE(ran);
  CHECK(size_in_window == 1);  // the stale entry really was still there
  CHECK_FALSE(lookup_in_window);
  REQUIRE(in_window);
  CHECK(in_window != old_actor);
  CHECK(starts == 2);
  CHECK(reg.size() == 1);
  CHECK(reg.lookup("k") == in_window);
  kill(in_window);
}

TEST_CASE_METHOD(threaded_fixture, "lookup_or_start_runs_start_once_per_key_under_concurrency") {
  id_registry reg{"test_concurrent"};
  constexpr int threads = 8;
  constexpr int iterations = 1000;
  constexpr uint64_t keys = 16;
  std::atomic<int> starts{0};
  death_watch deaths;
  std::vector<std::vector<caf::actor>> seen(threads, std::vector<caf::actor>(keys));
  std::atomic<int> mismatches{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int i = 0; i < iterations; ++i) {
        uint64_t key = static_cast<uint64_t>(i + t) % keys;
        auto res = reg.lookup_or_start(key, [&] {
          ++starts;
          auto a = sys.spawn(idle_actor);
          deaths.watch(a);  // before the registry's hook: signals after the removal
          return a;
        });
        if (!res) {
          ++mismatches;
          continue;
        }
        auto& prev = seen[t][key];
        if (prev && prev != res.actor()) {
          ++mismatches;
        }
        prev = res.actor();
      }
    });
  }
  for (auto& th : pool) {
    th.join();
  }
  CHECK(starts == static_cast<int>(keys));
  CHECK(mismatches == 0);
  for (uint64_t k = 0; k < keys; ++k) {
    for (int t = 1; t < threads; ++t) {
      CHECK(seen[t][k] == seen[0][k]);
    }
  }
  CHECK(reg.size() == keys);
  for (uint64_t k = 0; k < keys; ++k) {
    caf::anon_send_exit(reg.lookup(k), caf::exit_reason::kill);
  }
  REQUIRE(deaths.wait_for(keys));
  CHECK(reg.size() == 0);
}

// Callers race a killer that repeatedly kills the registered actor and, once
// it has *observed* the kill (is_terminated_flag set; removal may be pending),
// publishes that actor's id. No caller may get an actor at or below an id
// published before its call began: each start spawns a higher id.
TEST_CASE_METHOD(threaded_fixture,
                 "lookup_or_start_under_repeated_kills_never_returns_known_dead_actor") {
  name_registry reg{"test_kills"};
  constexpr int threads = 6;
  constexpr int max_iterations = 2'000'000;  // bound; callers stop with the killer
  constexpr int kills = 100;
  std::atomic<uint64_t> dead_upto{0};
  std::atomic<int> starts{0};
  std::atomic<int> stale_returns{0};
  std::atomic<int> failures{0};
  std::atomic<bool> stop{false};
  death_watch deaths;
  auto start = [&] {
    ++starts;
    auto a = sys.spawn(idle_actor);
    deaths.watch(a);  // before the registry's hook: signals after the removal
    return a;
  };
  // The killer and the victims' exit functors hand over on this.
  std::mutex handover;
  std::condition_variable changed;
  caf::actor_id last_terminated = 0;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i = 0; i < max_iterations && !stop; ++i) {
        auto known_dead = dead_upto.load(std::memory_order_acquire);
        auto res = reg.lookup_or_start("shared", start);
        if (!res) {
          ++failures;
        } else if (res.actor().id() <= known_dead) {
          ++stale_returns;
        }
      }
    });
  }
  int issued = 0;
  for (; issued < kills; ++issued) {
    auto victim = reg.lookup_or_start("shared", start).actor();
    // Holds the stale window open, as slow links or monitors would: this runs
    // after is_terminated_flag is set and before the registry's hook, and
    // keeps the entry in place until the death is published plus 2 ms.
    caf::actor_cast<caf::abstract_actor*>(victim)->attach_functor([&, id = victim.id()] {
      std::unique_lock<std::mutex> lock{handover};
      last_terminated = id;
      changed.notify_all();
      changed.wait_for(lock, std::chrono::seconds{1}, [&] { return dead_upto.load() >= id; });
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds{2});
    });
    caf::anon_send_exit(victim, caf::exit_reason::kill);
    std::unique_lock<std::mutex> lock{handover};
    if (!changed.wait_for(lock, herald::testing::default_wait,
                          [&] { return last_terminated == victim.id(); })) {
      break;
    }
    dead_upto.store(victim.id(), std::memory_order_release);
    changed.notify_all();
  }
  stop = true;
  for (auto& th : pool) {
    th.join();
  }
  CHECK(issued == kills);
  CHECK(stale_returns == 0);
  CHECK(failures == 0);
  // Each start after the first replaced a killed actor.
  CHECK(starts <= kills + 1);
  auto last = reg.lookup_or_start("shared", start).actor();
  CHECK(last.id() > dead_upto.load());
  caf::anon_send_exit(last, caf::exit_reason::kill);
  REQUIRE(deaths.wait_for(static_cast<size_t>(starts.load())));
  CHECK(reg.size() == 0);
}

TEST_CASE_METHOD(threaded_fixture, "one_actor_under_many_keys_leaves_every_key_on_death") {
  id_registry reg{"test_many_keys"};
  auto a = sys.spawn(idle_actor);
  death_watch deaths;
  deaths.watch(a);  // before the registry's hooks: signals after every removal
  constexpr uint64_t keys_per_thread = 25000;
  std::vector<std::thread> pool;
  std::atomic<int> errors{0};
  for (uint64_t t = 0; t < 4; ++t) {
    pool.emplace_back([&, t] {
      // Snowflake-like ids: large, with zero low bits.
      for (uint64_t i = 0; i < keys_per_thread; ++i) {
        uint64_t id = ((t * keys_per_thread + i) << 22) | (1ULL << 62);
        if (reg.register_actor(id, a)) {
          ++errors;
        }
      }
    });
  }
  for (auto& th : pool) {
    th.join();
  }
  CHECK(errors == 0);
  CHECK(reg.size() == 4 * keys_per_thread);
  CHECK(reg.lookup((7ULL << 22) | (1ULL << 62)) == a);
  caf::anon_send_exit(a, caf::exit_reason::kill);
  REQUIRE(deaths.wait_for(1));
  CHECK(reg.size() == 0);
}

TEST_CASE_METHOD(stepped_fixture, "registry_metrics_track_names_lookups_and_starts") {
  auto& m = herald::metrics::registry::global();
  herald::metrics::labels l{{"registry", "test_metrics"}};
  {
    name_registry reg{"test_metrics"};
    auto res = reg.lookup_or_start("a", [&] { return sys.spawn(idle_actor); });
    reg.lookup_or_start("a", [&] { return sys.spawn(idle_actor); });
    reg.lookup("a");
    CHECK(m.value_of("herald_registry_names", l) == 1);
    CHECK(m.value_of("herald_registry_lookups_total", l) == 3);
    CHECK(m.value_of("herald_registry_starts_total", l) == 1);
    kill(res.actor());
    CHECK(m.value_of("herald_registry_names", l) == 0);
  }
  CHECK(m.value_of("herald_registry_names", l) == 0);
  CHECK(to_string(registry_error::start_failed) == "start_failed");
  CHECK(to_string(registry_error::dead_actor) == "dead_actor");
}
