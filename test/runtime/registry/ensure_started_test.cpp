// SPDX-License-Identifier: Apache-2.0
// registry::ensure_started and registered_start: one live actor per key under a
// partition supervisor, found again after a race, and runtime errors (never a
// dispatch error) when the key's partition cannot be reached.

#include "runtime/registry/ensure_started.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "runtime/supervision/supervisor.hpp"
#include "runtime/supervision/worker.hpp"
#include "test/runtime/registry/registry_test_util.hpp"

using namespace herald;
using registry::test::idle_actor;
using std::chrono::milliseconds;

namespace {

supervision::child_spec_ptr counting_spec(registry::id_registry& reg, std::atomic<int>& spawned) {
  auto start = registry::registered_start(reg, [&spawned](caf::actor_system& sys, uint64_t) {
    ++spawned;
    return caf::expected<caf::actor>{supervision::spawn_worker(sys, idle_actor)};
  });
  return std::make_shared<const supervision::child_spec>(
      supervision::worker_spec("keyed", std::move(start), supervision::restart_type::temporary));
}

supervision::partition_supervisor started_partitions(caf::actor_system& sys) {
  supervision::partition_spec pspec;
  pspec.name = "keyed";
  pspec.partitions = 2;
  supervision::partition_supervisor parts{pspec};
  REQUIRE(parts.start(sys));
  return parts;
}

}  // namespace

TEST_CASE("ensure_started_starts_a_key_s_actor_once_and_registers_it") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  registry::id_registry reg{"keyed"};
  std::atomic<int> spawned{0};
  auto spec = counting_spec(reg, spawned);
  auto parts = started_partitions(sys);

  auto first = registry::ensure_started(sys, reg, parts, spec, 7, milliseconds{5000});
  REQUIRE(first);
  CHECK(reg.lookup(7) == *first);
  auto again = registry::ensure_started(sys, reg, parts, spec, 7, milliseconds{5000});
  REQUIRE(again);
  CHECK(*again == *first);
  CHECK(spawned == 1);
  supervision::stop_supervisor(sys, parts.owner(), milliseconds{5000});
}

TEST_CASE("racing_ensure_started_calls_for_one_key_get_one_actor") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  registry::id_registry reg{"keyed"};
  std::atomic<int> spawned{0};
  auto spec = counting_spec(reg, spawned);
  auto parts = started_partitions(sys);

  constexpr int callers = 8;
  std::vector<caf::actor> got(callers);
  std::vector<std::thread> threads;
  for (int i = 0; i < callers; ++i) {
    threads.emplace_back([&, i] {
      auto a = registry::ensure_started(sys, reg, parts, spec, 42, milliseconds{5000});
      if (a) {
        got[i] = *a;
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  for (const auto& a : got) {
    CHECK(a == got.front());
  }
  CHECK(got.front() != nullptr);
  CHECK(spawned == 1);
  supervision::stop_supervisor(sys, parts.owner(), milliseconds{5000});
}

TEST_CASE("registered_start_refuses_a_key_held_by_a_live_actor_with_start_errc_already_started") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  registry::id_registry reg{"keyed"};
  auto holder = sys.spawn(idle_actor);
  REQUIRE_FALSE(reg.register_actor(3, holder));
  auto start = registry::registered_start(reg, [](caf::actor_system& s, uint64_t) {
    return caf::expected<caf::actor>{s.spawn(idle_actor)};
  });
  supervision::child_key key{uint64_t{3}};
  std::string supervisor_name = "keyed";
  supervision::start_context ctx{sys, key, supervisor_name};
  auto refused = start(ctx);
  REQUIRE_FALSE(refused);
  CHECK(registry::is_error(refused.error(), registry::start_errc::already_started));
  CHECK(registry::to_string(registry::start_errc::already_started) == "already_started");
  caf::anon_send_exit(holder, caf::exit_reason::kill);
}

TEST_CASE("the_async_ensure_started_reports_supervisor_unavailable_before_the_partitions_run") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  registry::id_registry reg{"keyed"};
  std::atomic<int> spawned{0};
  auto spec = counting_spec(reg, spawned);
  supervision::partition_supervisor parts{supervision::partition_spec{}};  // never started

  caf::error seen;
  {
    caf::scoped_actor waiter{sys};
    auto asker = sys.spawn([&](caf::event_based_actor* self) -> caf::behavior {
      registry::ensure_started(self, reg, parts, spec, 9, milliseconds{1000},
                               [&seen, self](caf::expected<caf::actor> got) {
                                 if (!got) {
                                   seen = got.error();
                                 }
                                 self->quit();
                               });
      return {};
    });
    waiter->wait_for(asker);
  }
  CHECK(registry::is_error(seen, registry::start_errc::supervisor_unavailable));
  CHECK(spawned == 0);
}
