// SPDX-License-Identifier: Apache-2.0
// The blocking supervisor API (start_supervisor, stop_supervisor) on the real scheduler, and the
// value types. Restarts are stepped in supervisor_restart_test.cpp.
#include <catch2/catch.hpp>

#include "test/runtime/supervision/test_workers.hpp"

using namespace herald::supervision;
using namespace herald::supervision::testing;
using herald::testing::event_recorder;
using std::chrono::milliseconds;

namespace {

supervisor_spec three_children(strategy s, const recorder_ptr& rec, std::string name = "sup") {
  supervisor_spec spec;
  spec.name = std::move(name);
  spec.restart_strategy = s;
  spec.intensity = restart_intensity{10, milliseconds{5000}};
  for (auto id : {"a", "b", "c"}) {
    spec.children.push_back(recorded_child(id, rec));
  }
  return spec;
}

}  // namespace

TEST_CASE("children_start_in_order_and_stop_in_reverse_order") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto rec = std::make_shared<event_recorder>();
  auto sup = start_supervisor(sys, three_children(strategy::one_for_one, rec));
  REQUIRE(sup);
  CHECK(rec->with_prefix("start:") == std::vector<std::string>{"start:a", "start:b", "start:c"});
  CHECK_FALSE(stop_supervisor(sys, *sup));
  CHECK(rec->with_prefix("stop:") == std::vector<std::string>{"stop:c:exit_reason::user_shutdown",
                                                              "stop:b:exit_reason::user_shutdown",
                                                              "stop:a:exit_reason::user_shutdown"});
}

TEST_CASE("failing_start_function_fails_supervisor_start_and_stops_started_children") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto rec = std::make_shared<event_recorder>();
  supervisor_spec spec;
  spec.name = "doomed";
  spec.children.push_back(recorded_child("ok1", rec));
  spec.children.push_back(recorded_child("ok2", rec));
  spec.children.push_back(worker_spec("bad", [](const start_context&) -> caf::expected<caf::actor> {
    return caf::make_error(caf::sec::cannot_open_file, "no such database");
  }));
  spec.children.push_back(recorded_child("never", rec));
  auto sup = start_supervisor(sys, spec);
  REQUIRE_FALSE(sup);
  CHECK(is_error(sup.error(), supervision_errc::start_failed));
  CHECK_THAT(describe(sup.error()), Catch::Contains("doomed") && Catch::Contains("child 'bad'") &&
                                        Catch::Contains("no such database"));
  CHECK(rec->count("start:never") == 0);
  CHECK(rec->with_prefix("stop:") ==
        std::vector<std::string>{"stop:ok2:exit_reason::user_shutdown",
                                 "stop:ok1:exit_reason::user_shutdown"});
}

TEST_CASE("child_supervisor_start_failure_fails_the_parent_start") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto rec = std::make_shared<event_recorder>();
  supervisor_spec inner;
  inner.name = "inner";
  inner.children.push_back(worker_spec(
      "null", [](const start_context&) -> caf::expected<caf::actor> { return caf::actor{}; }));
  supervisor_spec outer;
  outer.name = "outer";
  outer.children.push_back(recorded_child("first", rec));
  outer.children.push_back(supervisor_child(inner));
  outer.children.push_back(recorded_child("last", rec));
  auto sup = start_supervisor(sys, outer);
  REQUIRE_FALSE(sup);
  CHECK(is_error(sup.error(), supervision_errc::start_failed));
  CHECK_THAT(describe(sup.error()),
             Catch::Contains("child 'inner'") && Catch::Contains("invalid_start"));
  CHECK(rec->count("start:last") == 0);
  CHECK(rec->count("stop:first:exit_reason::user_shutdown") == 1);
}

TEST_CASE("restart_window_allows_max_restarts_per_period") {
  restart_window w{restart_intensity{2, milliseconds{1000}}};
  auto t0 = restart_window::clock::now();
  CHECK(w.record(t0));
  CHECK(w.record(t0 + milliseconds{100}));
  CHECK_FALSE(w.record(t0 + milliseconds{200}));
  restart_window w2{restart_intensity{2, milliseconds{1000}}};
  CHECK(w2.record(t0));
  CHECK(w2.record(t0 + milliseconds{100}));
  // The first restart has left the window by now.
  CHECK(w2.record(t0 + milliseconds{1050}));
  restart_window defaults;
  CHECK(defaults.limit().max_restarts == 1);
  CHECK(defaults.limit().period == milliseconds{5000});
}

TEST_CASE("child_key_holds_none_a_number_or_a_string_and_copies_deeply") {
  child_key none;
  child_key num{uint64_t{42}};
  child_key str{"guild-7"};
  CHECK(none.is_none());
  CHECK(none.to_string() == "-");
  CHECK(num.is_number());
  CHECK(num.number() == 42);
  CHECK(num.str().empty());
  CHECK(str.is_string());
  CHECK(str.str() == "guild-7");
  CHECK(str.number() == 0);
  auto copy = str;
  CHECK(copy == str);
  auto moved = std::move(copy);
  CHECK(moved == str);
  CHECK(copy.is_none());  // NOLINT(bugprone-use-after-move): moved-from is none
  moved = num;
  CHECK(moved == num);
  CHECK_FALSE(moved == str);
  CHECK(child_key{"a"}.hash() == child_key{"a"}.hash());
  CHECK(child_key{uint64_t{1}}.hash() != child_key{uint64_t{2}}.hash());
  CHECK(sizeof(child_key) == 16);
}

// Regression: is_error() on an empty caf::error crashed heraldd's SIGTERM path.
TEST_CASE("is_error_of_an_empty_error_is_false") {
  CHECK_FALSE(
      herald::supervision::is_error(caf::error{}, herald::supervision::supervision_errc::timeout));
  CHECK(herald::supervision::is_error(
      herald::supervision::make_error(herald::supervision::supervision_errc::timeout),
      herald::supervision::supervision_errc::timeout));
}
