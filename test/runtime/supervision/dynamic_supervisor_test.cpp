// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <algorithm>
#include <future>
#include <set>

#include "runtime/metrics/metrics.hpp"
#include "runtime/supervision/dynamic_supervisor.hpp"
#include "runtime/supervision/partition_supervisor.hpp"
#include "test/runtime/supervision/stepped_supervision.hpp"
#include "test/runtime/supervision/test_workers.hpp"

using namespace herald::supervision;
using namespace herald::supervision::testing;
using herald::testing::event_recorder;
using std::chrono::milliseconds;

namespace {

const std::string boom = "sec::runtime_error: exception std::runtime_error: boom";

child_spec_ptr shared_child(std::string id, const recorder_ptr& rec,
                            restart_type r = restart_type::permanent) {
  return std::make_shared<const child_spec>(recorded_child(std::move(id), rec, r));
}

}  // namespace

TEST_CASE("dynamic_supervisor_starts_terminates_and_lists_children") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto rec = std::make_shared<event_recorder>();
  dynamic_supervisor_spec spec;
  spec.name = "dyn";
  auto sup = spawn_dynamic_supervisor(sys, spec);
  auto worker = shared_child("w", rec);
  auto one = start_child(sys, sup, worker, child_key{1});
  auto two = start_child(sys, sup, worker, child_key{"two"});
  REQUIRE(one);
  REQUIRE(two);
  CHECK(rec->with_prefix("start:") == std::vector<std::string>{"start:w:1", "start:w:two"});
  auto counts = count_children(sys, sup);
  REQUIRE(counts);
  CHECK(counts->active == 2);
  CHECK(counts->workers == 2);
  CHECK(counts->supervisors == 0);
  auto xs = which_children(sys, sup);
  REQUIRE(xs);
  std::set<std::string> keys;
  for (auto& x : *xs) {
    keys.insert(x.key.to_string());
    CHECK(x.id == "w");
  }
  CHECK(keys == std::set<std::string>{"1", "two"});
  CHECK_FALSE(terminate_child(sys, sup, *one));
  CHECK(rec->count("stop:w:1:exit_reason::user_shutdown") == 1);
  CHECK(is_error(terminate_child(sys, sup, *one), supervision_errc::no_such_child));
  counts = count_children(sys, sup);
  REQUIRE(counts);
  CHECK(counts->active == 1);
  // Terminated children are not restarted.
  CHECK(rec->count("start:w:1") == 1);
  CHECK_FALSE(stop_supervisor(sys, sup));
  CHECK(rec->count("stop:w:two:exit_reason::user_shutdown") == 1);
}

TEST_CASE_METHOD(supervision_fixture,
                 "dynamic_supervisor_restarts_a_crashed_child_with_the_same_key") {
  dynamic_supervisor_spec spec;
  spec.intensity = restart_intensity{5, milliseconds{60000}};
  auto sup = track(spawn_dynamic_supervisor(sys, spec));
  auto perm = ask<caf::actor>(sup, start_child_atom::value, shared_child("p", rec), child_key{7});
  auto temp = ask<caf::actor>(sup, start_child_atom::value,
                              shared_child("t", rec, restart_type::temporary), child_key{8});
  crash(perm);
  crash(temp);
  expect((caf::down_msg), from(_).to(sup));
  expect((caf::down_msg), from(_).to(sup));
  sched.run();
  CHECK(rec->events() == std::vector<std::string>{"start:p:7", "start:t:8", "stop:p:7:" + boom,
                                                  "stop:t:8:" + boom, "start:p:7"});
  auto xs = children(sup);
  REQUIRE(xs.size() == 1);
  CHECK(xs.front().key.number() == 7);
  CHECK(xs.front().handle != perm);
  CHECK(counts(sup).active == 1);
}

TEST_CASE_METHOD(supervision_fixture,
                 "dynamic_supervisor_escalates_and_kills_children_when_intensity_is_exceeded") {
  auto sup = track(spawn_dynamic_supervisor(sys, dynamic_supervisor_spec{}));  // 1 in 5 s
  self->monitor(sup);
  auto crashy = ask<caf::actor>(sup, start_child_atom::value, shared_child("c", rec), child_key{1});
  auto bystander =
      ask<caf::actor>(sup, start_child_atom::value, shared_child("b", rec), child_key{2});
  crash(crashy);
  expect((caf::down_msg), from(_).to(sup));  // restarted: within the intensity
  sched.run();
  caf::actor again;
  for (auto& x : children(sup)) {
    if (x.key.number() == 1) {
      again = x.handle;
    }
  }
  REQUIRE((again && again != crashy));
  crash(again);
  expect((caf::down_msg), from(_).to(sup));  // exceeded: the others are stopped, then it exits
  sched.run();
  CHECK(is_error(down_reason(), supervision_errc::max_restarts_exceeded));
  CHECK(rec->events() == std::vector<std::string>{"start:c:1", "start:b:2", "stop:c:1:" + boom,
                                                  "start:c:1", "stop:c:1:" + boom,
                                                  "stop:b:2:exit_reason::user_shutdown"});
  static_cast<void>(bystander);
}

TEST_CASE_METHOD(supervision_fixture, "dynamic_supervisor_children_die_when_it_is_killed") {
  auto sup = track(spawn_dynamic_supervisor(sys, dynamic_supervisor_spec{}));
  auto spec = shared_child("k", rec);
  for (uint64_t i = 0; i < 20; ++i) {
    cast_start_child(sup, spec, child_key{i});
  }
  sched.run();
  REQUIRE(counts(sup).active == 20);
  self->send_exit(sup, caf::exit_reason::kill);
  sched.run();
  auto xs = rec->events();
  CHECK(std::count_if(xs.begin(), xs.end(), [](auto& x) {
          return x.find(":exit_reason::kill") != std::string::npos;
        }) == 20);
}

TEST_CASE_METHOD(supervision_fixture, "actor_callers_start_children_with_async_requests") {
  auto sup = track(spawn_dynamic_supervisor(sys, dynamic_supervisor_spec{}));
  auto spec = shared_child("async", rec);
  auto r = rec;
  sys.spawn([sup, spec, r](caf::event_based_actor* self) {
    request_start_child(self, sup, spec, child_key{"k"})
        .then([r](const caf::actor& child) { r->record(child ? "started" : "invalid"); },
              [r](caf::error& err) { r->record("error:" + describe(err)); });
  });
  sched.run();
  CHECK(rec->events() == std::vector<std::string>{"start:async:k", "started"});
}

TEST_CASE("dynamic_supervisor_reports_child_supervisor_start_failure") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto sup = spawn_dynamic_supervisor(sys, dynamic_supervisor_spec{});
  supervisor_spec broken;
  broken.name = "broken";
  broken.children.push_back(worker_spec(
      "null", [](const start_context&) -> caf::expected<caf::actor> { return caf::actor{}; }));
  auto res = start_child(sys, sup, std::make_shared<const child_spec>(supervisor_child(broken)));
  REQUIRE_FALSE(res);
  CHECK(is_error(res.error(), supervision_errc::start_failed));
  auto c = count_children(sys, sup);
  REQUIRE(c);
  CHECK(c->active == 0);
  stop_supervisor(sys, sup);
}

TEST_CASE("partition_supervisor_places_children_by_key_hash") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto rec = std::make_shared<event_recorder>();
  partition_spec pspec;
  pspec.name = "parts";
  pspec.partitions = 4;
  partition_supervisor parts{pspec};
  auto owner = parts.start(sys);
  REQUIRE(owner);
  REQUIRE(parts.partitions() == 4);
  auto spec = shared_child("g", rec);
  std::vector<size_t> per_partition(4, 0);
  for (uint64_t key = 0; key < 40; ++key) {
    auto child = parts.start_child(sys, spec, child_key{key});
    REQUIRE(child);
    auto idx = parts.partition_index(child_key{key});
    ++per_partition[idx];
    // The child lives under exactly the partition its key hashes to.
    auto xs = which_children(sys, parts.partition(idx));
    REQUIRE(xs);
    CHECK(std::any_of(xs->begin(), xs->end(), [&](auto& x) { return x.handle == *child; }));
  }
  for (auto n : per_partition) {
    CHECK(n > 0);  // 40 keys over 4 partitions: a mixing hash hits all of them
  }
  CHECK(parts.partition_index(child_key{"guild-9"}) == parts.partition_index(child_key{"guild-9"}));
  auto total = parts.count_children(sys);
  REQUIRE(total);
  CHECK(total->active == 40);
  CHECK_FALSE(stop_supervisor(sys, *owner));
  CHECK(rec->with_prefix("stop:").size() == 40);
}

TEST_CASE_METHOD(supervision_fixture, "partition_supervisor_partitions_fail_independently") {
  partition_spec pspec;
  pspec.name = "indep";
  pspec.partitions = 3;
  pspec.intensity = restart_intensity{0, milliseconds{60000}};  // a partition gives up at once
  partition_supervisor parts{pspec};
  // The owner is spawned by its start function and started by stepping (start() would block).
  static const std::string no_parent;
  child_key none;
  auto owner = parts.as_child().start(start_context{sys, none, no_parent});
  REQUIRE(owner);
  track(*owner);
  sched.run();
  REQUIRE(parts.partitions() == 3);
  auto spec = shared_child("w", rec);
  for (uint64_t key = 0; key < 30; ++key) {
    REQUIRE(parts.cast_start_child(spec, child_key{key}));
  }
  sched.run();
  std::vector<caf::actor> kids(30);
  for (size_t i = 0; i < parts.partitions(); ++i) {
    for (auto& x : children(parts.partition(i))) {
      kids[x.key.number()] = x.handle;
    }
  }
  auto victim_idx = parts.partition_index(child_key{uint64_t{0}});
  auto old_partition = parts.partition(victim_idx);
  // Escalation of the victim's partition kills only its own children; the owner restarts that
  // partition alone and routing follows the new handle.
  crash(kids[0]);
  sched.run();
  auto restarted = parts.partition(victim_idx);
  REQUIRE(restarted);
  CHECK(restarted != old_partition);
  size_t survivors = 0;
  for (uint64_t key = 0; key < 30; ++key) {
    bool victim = parts.partition_index(child_key{key}) == victim_idx;
    survivors += victim ? 0 : 1;
    auto stops = rec->with_prefix("stop:w:" + std::to_string(key) + ":");
    CHECK(stops.size() == (victim ? 1u : 0u));
  }
  size_t active = 0;
  for (size_t i = 0; i < parts.partitions(); ++i) {
    auto c = counts(parts.partition(i));
    active += c.active;
    if (i != victim_idx) {
      CHECK(c.active > 0);  // 30 keys over 3 partitions: every partition had children
    }
  }
  CHECK(active == survivors);
  REQUIRE(parts.cast_start_child(spec, child_key{uint64_t{0}}));
  sched.run();
  CHECK(counts(restarted).active == 1);
}

TEST_CASE("partition_count_defaults_to_scheduler_threads") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  partition_supervisor parts{partition_spec{}};
  auto owner = parts.start(sys);
  REQUIRE(owner);
  CHECK(parts.partitions() == sys.scheduler().num_workers());
  stop_supervisor(sys, *owner);
}

TEST_CASE_METHOD(supervision_fixture, "supervisor_samples_its_own_mailbox_depth_into_a_gauge") {
  dynamic_supervisor_spec spec;
  spec.name = "mbox_sup";
  spec.mailbox_sample_period = std::chrono::hours{1};  // only request-driven samples
  auto sup = track(spawn_dynamic_supervisor(sys, spec));
  auto idle = worker_spec("idle", [](const start_context& ctx) -> caf::expected<caf::actor> {
    return ctx.system.spawn([] { return caf::behavior{[](caf::ok_atom) {}}; });
  });
  // A backlog queued before the supervisor runs at all.
  cast_start_child(sup, std::make_shared<const child_spec>(idle));
  self->send(sup, count_children_atom::value);
  for (int i = 0; i < 100; ++i) {
    self->send(sup, ready_atom::value);  // not sampled; stays behind the count
  }
  auto depth = [] {
    return herald::metrics::registry::global().value_of("herald_mailbox_depth",
                                                        {{"actor", "mbox_sup"}});
  };
  expect((start_child_atom, child_spec_ptr, child_key), from(_).to(sup));
  expect((count_children_atom), from(self).to(sup));
  // The count request sampled the 100 ready requests still queued behind it.
  CHECK(depth() == 100);
  self->send_exit(sup, caf::exit_reason::user_shutdown);
  sched.run();
  CHECK(depth() == 0);
}

TEST_CASE_METHOD(supervision_fixture,
                 "dynamic_supervisor_restarts_many_concurrent_crashes_keeping_every_key") {
  dynamic_supervisor_spec spec;
  spec.intensity = restart_intensity{1000, milliseconds{60000}};
  auto sup = track(spawn_dynamic_supervisor(sys, spec));
  auto worker = shared_child("m", rec);
  for (uint64_t key = 0; key < 200; ++key) {
    cast_start_child(sup, worker, child_key{key});
  }
  sched.run();
  std::vector<caf::actor> kids(200);
  for (auto& x : children(sup)) {
    kids[x.key.number()] = x.handle;
  }
  // All crashes are queued before the supervisor handles the first down message.
  for (size_t i = 0; i < kids.size(); i += 2) {
    self->send(kids[i], crash_atom::value);
  }
  sched.run();
  auto xs = children(sup);
  REQUIRE(xs.size() == 200);
  std::set<uint64_t> keys;
  size_t fresh = 0;
  for (auto& x : xs) {
    keys.insert(x.key.number());
    fresh += x.handle != kids[x.key.number()] ? 1 : 0;
  }
  CHECK(keys.size() == 200);
  CHECK(fresh == 100);
  CHECK(counts(sup).active == 200);
}
