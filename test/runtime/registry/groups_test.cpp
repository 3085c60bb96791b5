// SPDX-License-Identifier: Apache-2.0
#include "runtime/registry/groups.hpp"
#include "runtime/metrics/metrics.hpp"
#include "test/runtime/registry/registry_test_util.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace herald::registry;
using namespace herald::registry::test;

namespace {

using event_atom = caf::atom_constant<caf::atom("event")>;

/// What members saw: one record per delivered message.
struct trace {
  std::mutex mutex;
  struct record {
    caf::actor_id receiver;
    std::string payload;
    const void* message_data;  // address of the payload inside the message
  };
  std::vector<record> records;

  size_t size() {
    std::lock_guard<std::mutex> guard{mutex};
    return records.size();
  }
};

caf::behavior recorder(caf::event_based_actor* self, trace* out) {
  // `payload` binds by const reference into the message's shared storage, so
  // its address identifies the message object that was enqueued.
  return {[self, out](event_atom, const std::string& payload) {
    std::lock_guard<std::mutex> guard{out->mutex};
    out->records.push_back({self->id(), payload, &payload});
  }};
}

bool contains(const std::vector<caf::actor>& xs, const caf::actor& x) {
  return std::find(xs.begin(), xs.end(), x) != xs.end();
}

}  // namespace

TEST_CASE_METHOD(stepped_fixture, "join_and_leave_change_group_members") {
  name_groups groups{"test_join_leave"};
  auto a = sys.spawn(idle_actor);
  auto b = sys.spawn(idle_actor);
  REQUIRE_FALSE(groups.join("room", a));
  REQUIRE_FALSE(groups.join("room", b));
  REQUIRE_FALSE(groups.join("room", a));  // joining twice is a no-op
  auto members = groups.members("room");
  CHECK(members.size() == 2);
  CHECK(contains(members, a));
  CHECK(contains(members, b));
  CHECK(groups.leave("room", a));
  CHECK_FALSE(groups.leave("room", a));
  CHECK(groups.members("room") == std::vector<caf::actor>{b});
  CHECK(groups.leave("room", b));
  CHECK(groups.members("room").empty());
  CHECK(groups.group_count() == 0);
  CHECK(groups.join("room", caf::actor{}) == registry_error::dead_actor);
  kill(a);
  kill(b);
}

TEST_CASE_METHOD(stepped_fixture, "dead_members_are_removed_from_every_group") {
  id_groups groups{"test_auto_remove"};
  auto a = sys.spawn(idle_actor);
  auto b = sys.spawn(idle_actor);
  for (uint64_t g = 1; g <= 3; ++g) {
    REQUIRE_FALSE(groups.join(g, a));
  }
  REQUIRE_FALSE(groups.join(2, b));
  kill(a);
  CHECK(groups.group_count() == 1);
  CHECK(groups.members(1).empty());
  CHECK(groups.members(2) == std::vector<caf::actor>{b});
  // A left member's hook is detached: leaving then dying changes nothing.
  CHECK(groups.leave(2, b));
  REQUIRE_FALSE(groups.join(2, b));
  kill(b);
  CHECK(groups.group_count() == 0);
}

TEST_CASE_METHOD(stepped_fixture, "dispatch_sends_one_shared_message_to_each_member_once") {
  trace seen;
  name_groups groups{"test_dispatch"};
  std::vector<caf::actor> members;
  for (int i = 0; i < 5; ++i) {
    members.push_back(sys.spawn(recorder, &seen));
    REQUIRE_FALSE(groups.join("channel", members.back()));
  }
  auto outsider = sys.spawn(recorder, &seen);
  REQUIRE_FALSE(groups.join("other", outsider));
  sched.run();
  CHECK(groups.dispatch("channel", event_atom::value, std::string{"hello"}) == 5);
  disallow((event_atom, std::string), from(_).to(outsider));
  for (auto& m : members) {
    expect((event_atom, std::string), from(_).to(m).with(_, "hello"));
  }
  {
    std::lock_guard<std::mutex> guard{seen.mutex};
    REQUIRE(seen.records.size() == 5);
    std::vector<caf::actor_id> receivers;
    for (auto& r : seen.records) {
      CHECK(r.payload == "hello");
      CHECK(r.receiver != outsider.id());
      // Every member got the very same message object: built once.
      CHECK(r.message_data == seen.records.front().message_data);
      receivers.push_back(r.receiver);
    }
    std::sort(receivers.begin(), receivers.end());
    CHECK(std::unique(receivers.begin(), receivers.end()) == receivers.end());
  }
  CHECK(groups.dispatch("nobody", event_atom::value, std::string{"x"}) == 0);
  for (auto& m : members) {
    kill(m);
  }
  kill(outsider);
}

TEST_CASE_METHOD(stepped_fixture, "dispatch_skips_members_that_have_died") {
  trace seen;
  name_groups groups{"test_dispatch_dead"};
  auto alive = sys.spawn(recorder, &seen);
  auto dying = sys.spawn(recorder, &seen);
  REQUIRE_FALSE(groups.join("g", alive));
  REQUIRE_FALSE(groups.join("g", dying));
  kill(dying);
  REQUIRE(terminated(dying));
  CHECK(groups.dispatch("g", event_atom::value, std::string{"after"}) == 1);
  sched.run();
  REQUIRE(seen.size() == 1);
  std::lock_guard<std::mutex> guard{seen.mutex};
  CHECK(seen.records.front().receiver == alive.id());
  kill(alive);
}

TEST_CASE_METHOD(stepped_fixture, "group_metrics_track_members_and_dispatches") {
  auto& m = herald::metrics::registry::global();
  herald::metrics::labels l{{"registry", "test_group_metrics"}};
  {
    name_groups groups{"test_group_metrics"};
    auto a = sys.spawn(idle_actor);
    auto b = sys.spawn(idle_actor);
    REQUIRE_FALSE(groups.join("g", a));
    REQUIRE_FALSE(groups.join("g", b));
    CHECK(m.value_of("herald_registry_group_members", l) == 2);
    groups.dispatch("g", ping_atom::value);
    CHECK(m.value_of("herald_registry_dispatches_total", l) == 1);
    CHECK(m.value_of("herald_registry_deliveries_total", l) == 2);
    kill(a);
    CHECK(m.value_of("herald_registry_group_members", l) == 1);
    kill(b);
  }
}

TEST_CASE_METHOD(threaded_fixture,
                 "concurrent_join_leave_dispatch_and_deaths_leave_no_stale_member") {
  auto& m = herald::metrics::registry::global();
  herald::metrics::labels l{{"registry", "test_group_stress"}};
  id_groups groups{"test_group_stress", 8};
  constexpr int actors = 32;
  constexpr int threads = 4;
  constexpr int iterations = 2000;
  std::vector<caf::actor> pool;
  death_watch deaths;
  for (int i = 0; i < actors; ++i) {
    pool.push_back(sys.spawn(idle_actor));
    deaths.watch(pool.back());  // before any join: signals after the group hooks ran
  }
  std::atomic<int> join_errors{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < iterations; ++i) {
        auto& a = pool[static_cast<size_t>((i * 7 + t) % actors)];
        uint64_t g = static_cast<uint64_t>(i % 8);
        switch ((i + t) % 3) {
          case 0:
            // A member killed meanwhile is refused or removed by its hook.
            if (auto err = groups.join(g, a); err && *err != registry_error::dead_actor) {
              ++join_errors;
            }
            break;
          case 1:
            groups.leave(g, a);
            break;
          default:
            groups.dispatch(g, ping_atom::value);
        }
        if (t == 0 && i % 250 == 0) {
          caf::anon_send_exit(pool[static_cast<size_t>(i / 250)], caf::exit_reason::kill);
        }
      }
    });
  }
  for (auto& w : workers) {
    w.join();
  }
  CHECK(join_errors == 0);
  for (auto& a : pool) {
    caf::anon_send_exit(a, caf::exit_reason::kill);
  }
  REQUIRE(deaths.wait_for(actors));
  CHECK(groups.group_count() == 0);
  CHECK(m.value_of("herald_registry_group_members", l) == 0);
}
