// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>

#include "runtime/supervision/supervision_tree.hpp"
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

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
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

TEST_CASE("one_for_one_restarts_only_the_crashed_child") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto rec = std::make_shared<event_recorder>();
  auto sup = start_supervisor(sys, three_children(strategy::one_for_one, rec));
  REQUIRE(sup);
  auto a = child_handle(sys, *sup, "a");
  auto b = child_handle(sys, *sup, "b");
  auto c = child_handle(sys, *sup, "c");
  caf::anon_send(b, crash_atom::value);
  auto b2 = wait_for_restart(sys, *sup, "b", b);
  REQUIRE(b2);
  CHECK(child_handle(sys, *sup, "a") == a);
  CHECK(child_handle(sys, *sup, "c") == c);
  CHECK(rec->with_prefix("start:") ==
        std::vector<std::string>{"start:a", "start:b", "start:c", "start:b"});
  stop_supervisor(sys, *sup);
}

TEST_CASE("one_for_all_restarts_every_child_after_one_crash") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto rec = std::make_shared<event_recorder>();
  auto sup = start_supervisor(sys, three_children(strategy::one_for_all, rec));
  REQUIRE(sup);
  auto b = child_handle(sys, *sup, "b");
  caf::anon_send(b, crash_atom::value);
  REQUIRE(rec->wait_until([](auto& xs) { return xs.size() >= 9; }));
  auto xs = rec->events();
  // The crash, then the survivors stopped in reverse order, then all started in order.
  std::vector<std::string> expected{"start:a",
                                    "start:b",
                                    "start:c",
                                    "stop:b:sec::runtime_error: exception std::runtime_error: boom",
                                    "stop:c:exit_reason::user_shutdown",
                                    "stop:a:exit_reason::user_shutdown",
                                    "start:a",
                                    "start:b",
                                    "start:c"};
  CHECK(std::vector<std::string>(xs.begin(), xs.begin() + 9) == expected);
  stop_supervisor(sys, *sup);
}

TEST_CASE("rest_for_one_restarts_only_later_siblings") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto rec = std::make_shared<event_recorder>();
  auto sup = start_supervisor(sys, three_children(strategy::rest_for_one, rec));
  REQUIRE(sup);
  auto a = child_handle(sys, *sup, "a");
  auto b = child_handle(sys, *sup, "b");
  caf::anon_send(b, crash_atom::value);
  REQUIRE(rec->wait_until([](auto& xs) { return xs.size() >= 7; }));
  auto xs = rec->events();
  std::vector<std::string> expected{"start:a",
                                    "start:b",
                                    "start:c",
                                    "stop:b:sec::runtime_error: exception std::runtime_error: boom",
                                    "stop:c:exit_reason::user_shutdown",
                                    "start:b",
                                    "start:c"};
  CHECK(std::vector<std::string>(xs.begin(), xs.begin() + 7) == expected);
  CHECK(child_handle(sys, *sup, "a") == a);
  stop_supervisor(sys, *sup);
}

TEST_CASE("permanent_child_restarts_after_normal_exit") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto rec = std::make_shared<event_recorder>();
  supervisor_spec spec;
  spec.children.push_back(recorded_child("p", rec, restart_type::permanent));
  auto sup = start_supervisor(sys, spec);
  REQUIRE(sup);
  auto p = child_handle(sys, *sup, "p");
  caf::anon_send(p, finish_atom::value);
  CHECK(wait_for_restart(sys, *sup, "p", p));
  CHECK(rec->count("start:p") == 2);
  stop_supervisor(sys, *sup);
}

TEST_CASE("transient_child_restarts_only_after_abnormal_exit") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto rec = std::make_shared<event_recorder>();
  supervisor_spec spec;
  spec.intensity = restart_intensity{10, milliseconds{5000}};
  spec.children.push_back(recorded_child("t", rec, restart_type::transient));
  auto sup = start_supervisor(sys, spec);
  REQUIRE(sup);
  auto t = child_handle(sys, *sup, "t");
  caf::anon_send(t, crash_atom::value);
  auto t2 = wait_for_restart(sys, *sup, "t", t);
  REQUIRE(t2);
  caf::anon_send(t2, finish_atom::value);
  REQUIRE(rec->wait_for("stop:t:none"));
  REQUIRE(herald::testing::eventually([&] { return !child_handle(sys, *sup, "t"); }));
  // Still listed (OTP keeps the spec), not running, started exactly twice.
  auto counts = count_children(sys, *sup);
  REQUIRE(counts);
  CHECK(counts->specs == 1);
  CHECK(counts->active == 0);
  CHECK(rec->count("start:t") == 2);
  stop_supervisor(sys, *sup);
}

TEST_CASE("temporary_child_is_never_restarted") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto rec = std::make_shared<event_recorder>();
  supervisor_spec spec;
  spec.intensity = restart_intensity{10, milliseconds{5000}};
  spec.children.push_back(recorded_child("tmp", rec, restart_type::temporary));
  spec.children.push_back(recorded_child("keep", rec));
  auto sup = start_supervisor(sys, spec);
  REQUIRE(sup);
  caf::anon_send(child_handle(sys, *sup, "tmp"), crash_atom::value);
  REQUIRE(herald::testing::eventually([&] {
    auto xs = which_children(sys, *sup);
    return xs && xs->size() == 1 && xs->front().id == "keep";
  }));
  CHECK(rec->count("start:tmp") == 1);
  stop_supervisor(sys, *sup);
}

TEST_CASE("exceeding_restart_intensity_stops_children_and_exits_with_max_restarts_exceeded") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto rec = std::make_shared<event_recorder>();
  supervisor_spec spec = three_children(strategy::one_for_one, rec, "fragile");
  spec.intensity = restart_intensity{1, milliseconds{60000}};  // OTP default count
  auto sup = start_supervisor(sys, spec);
  REQUIRE(sup);
  caf::scoped_actor watcher{sys};
  watcher->monitor(*sup);
  auto b = child_handle(sys, *sup, "b");
  caf::anon_send(b, crash_atom::value);
  auto b2 = wait_for_restart(sys, *sup, "b", b);
  REQUIRE(b2);
  caf::anon_send(b2, crash_atom::value);
  caf::error reason;
  watcher->receive([&](caf::down_msg& dm) { reason = dm.reason; },
                   caf::after(herald::testing::default_wait) >> [] { FAIL("no escalation"); });
  CHECK(is_error(reason, supervision_errc::max_restarts_exceeded));
  CHECK_THAT(describe(reason), Catch::Contains("fragile") && Catch::Contains("child 'b'"));
  // The surviving children were stopped in reverse order before it exited.
  auto stops = rec->with_prefix("stop:");
  REQUIRE(stops.size() == 4);
  CHECK(starts_with(stops[2], "stop:c:exit_reason::user_shutdown"));
  CHECK(starts_with(stops[3], "stop:a:exit_reason::user_shutdown"));
}

TEST_CASE("nested_supervisor_escalation_triggers_the_parent_strategy") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto rec = std::make_shared<event_recorder>();
  supervisor_spec inner;
  inner.name = "inner";
  inner.intensity = restart_intensity{0, milliseconds{60000}};  // gives up on first crash
  inner.children.push_back(recorded_child("w", rec));
  supervisor_spec outer;
  outer.name = "outer";
  outer.restart_strategy = strategy::rest_for_one;
  outer.intensity = restart_intensity{5, milliseconds{60000}};
  outer.children.push_back(recorded_child("before", rec));
  outer.children.push_back(supervisor_child(inner));
  outer.children.push_back(recorded_child("after", rec));
  auto sup = start_supervisor(sys, outer);
  REQUIRE(sup);
  auto before = child_handle(sys, *sup, "before");
  auto inner1 = child_handle(sys, *sup, "inner");
  auto w = child_handle(sys, inner1, "w");
  REQUIRE(w);
  caf::anon_send(w, crash_atom::value);
  // inner escalates; outer (rest_for_one) restarts inner and "after" only.
  auto inner2 = wait_for_restart(sys, *sup, "inner", inner1);
  REQUIRE(inner2);
  CHECK(herald::testing::eventually(
      [&] { return static_cast<bool>(child_handle(sys, inner2, "w")); }));
  REQUIRE(rec->wait_for("start:after", 2));
  CHECK(child_handle(sys, *sup, "before") == before);
  CHECK(rec->count("start:before") == 1);
  CHECK(rec->count("start:w") == 2);
  CHECK_FALSE(stop_supervisor(sys, *sup));
}

TEST_CASE("child_that_ignores_shutdown_is_killed_after_its_timeout") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto rec = std::make_shared<event_recorder>();
  supervisor_spec spec;
  spec.children.push_back(recorded_child("polite", rec));
  spec.children.push_back(recorded_child("stubborn", rec, restart_type::permanent,
                                         shutdown_policy::timeout(milliseconds{200}), true));
  spec.children.push_back(
      recorded_child("brutal", rec, restart_type::permanent, shutdown_policy::brutal_kill()));
  auto sup = start_supervisor(sys, spec);
  REQUIRE(sup);
  CHECK_FALSE(stop_supervisor(sys, *sup));
  CHECK(rec->with_prefix("stop:") ==
        std::vector<std::string>{"stop:brutal:exit_reason::kill", "stop:stubborn:exit_reason::kill",
                                 "stop:polite:exit_reason::user_shutdown"});
  CHECK(rec->count("ignored:stubborn:exit_reason::user_shutdown") == 1);
}

TEST_CASE("children_die_when_their_supervisor_is_killed") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto rec = std::make_shared<event_recorder>();
  supervisor_spec inner;
  inner.name = "inner";
  inner.children.push_back(recorded_child("grandchild", rec));
  supervisor_spec spec = three_children(strategy::one_for_one, rec);
  spec.children.push_back(supervisor_child(inner));
  auto sup = start_supervisor(sys, spec);
  REQUIRE(sup);
  caf::anon_send_exit(*sup, caf::exit_reason::kill);
  REQUIRE(rec->wait_until([](auto& xs) {
    return std::count_if(xs.begin(), xs.end(), [](auto& x) { return starts_with(x, "stop:"); }) ==
           4;
  }));
  CHECK(rec->count("stop:grandchild:exit_reason::kill") == 1);
  CHECK(rec->count("stop:a:exit_reason::kill") == 1);
}

TEST_CASE("exception_in_child_is_a_crash_with_a_clear_reason_and_is_restarted") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto rec = std::make_shared<event_recorder>();
  supervisor_spec spec;
  spec.children.push_back(recorded_child("thrower", rec));
  auto sup = start_supervisor(sys, spec);
  REQUIRE(sup);
  auto t = child_handle(sys, *sup, "thrower");
  caf::anon_send(t, crash_atom::value);
  CHECK(wait_down(sys, t) == crash_reason(std::make_exception_ptr(std::runtime_error("boom"))));
  CHECK(wait_for_restart(sys, *sup, "thrower", t));
  CHECK(rec->count("stop:thrower:sec::runtime_error: exception std::runtime_error: boom") == 1);
  stop_supervisor(sys, *sup);
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

TEST_CASE("supervision_tree_lists_live_supervisors_and_drops_them_on_exit") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto rec = std::make_shared<event_recorder>();
  supervisor_spec inner;
  inner.name = "tree_inner";
  inner.children.push_back(recorded_child("x", rec));
  supervisor_spec outer = three_children(strategy::one_for_all, rec, "tree_root");
  outer.children.push_back(supervisor_child(inner));
  auto sup = start_supervisor(sys, outer);
  REQUIRE(sup);
  auto find = [](const std::string& name) -> std::optional<supervisor_info> {
    for (auto& s : live_supervisors()) {
      if (s.name == name) {
        return s;
      }
    }
    return std::nullopt;
  };
  auto root = find("tree_root");
  REQUIRE(root);
  CHECK(root->parent.empty());
  CHECK(root->strategy == "one_for_all");
  CHECK(root->children == 4);
  auto child = find("tree_inner");
  REQUIRE(child);
  CHECK(child->parent == "tree_root");
  CHECK_THAT(render_supervision_tree(),
             Catch::Contains("tree_root strategy=one_for_all children=4 restarts=0\n"
                             "  tree_inner strategy=one_for_one children=1 restarts=0"));
  stop_supervisor(sys, *sup);
  CHECK(herald::testing::eventually([&] { return !find("tree_root") && !find("tree_inner"); }));
}

TEST_CASE("restarts_counter_and_actors_alive_gauge_follow_children") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto rec = std::make_shared<event_recorder>();
  auto& reg = herald::metrics::registry::global();
  auto alive = [&] { return reg.value_of("herald_actors_alive", {{"kind", "metric_kind"}}); };
  auto restarts = [&] {
    return reg.value_of("herald_supervisor_restarts_total", {{"supervisor", "metric_sup"}});
  };
  auto alive0 = alive();
  auto restarts0 = restarts();
  supervisor_spec spec;
  spec.name = "metric_sup";
  spec.children.push_back(recorded_child("m1", rec, restart_type::permanent,
                                         shutdown_policy::timeout(milliseconds{5000}), false,
                                         "metric_kind"));
  spec.children.push_back(recorded_child("m2", rec, restart_type::permanent,
                                         shutdown_policy::timeout(milliseconds{5000}), false,
                                         "metric_kind"));
  auto sup = start_supervisor(sys, spec);
  REQUIRE(sup);
  CHECK(alive() == alive0 + 2);
  auto m1 = child_handle(sys, *sup, "m1");
  caf::anon_send(m1, crash_atom::value);
  REQUIRE(wait_for_restart(sys, *sup, "m1", m1));
  CHECK(restarts() == restarts0 + 1);
  CHECK(herald::testing::eventually([&] { return alive() == alive0 + 2; }));
  bool listed = false;
  for (auto& k : actors_alive_by_kind()) {
    listed = listed || (k.kind == "metric_kind" && k.alive == alive0 + 2);
  }
  CHECK(listed);
  stop_supervisor(sys, *sup);
  CHECK(herald::testing::eventually([&] { return alive() == alive0; }));
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

// CAF 0.17.6's own exception handler prints to stdout and returns a bare
// sec::runtime_error without context; supervision still restarts the child.
TEST_CASE("exception_in_a_child_without_crash_handler_is_still_a_restartable_crash") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto rec = std::make_shared<event_recorder>();
  supervisor_spec spec;
  spec.children.push_back(
      worker_spec("plain", [rec](const start_context& ctx) -> caf::expected<caf::actor> {
        rec->record("start:plain");
        return ctx.system.spawn([](caf::event_based_actor*) -> caf::behavior {
          return {[](crash_atom) { throw std::logic_error("plain boom"); }};
        });
      }));
  auto sup = start_supervisor(sys, spec);
  REQUIRE(sup);
  auto plain = child_handle(sys, *sup, "plain");
  caf::anon_send(plain, crash_atom::value);
  auto reason = wait_down(sys, plain);
  CHECK(reason == caf::sec::runtime_error);
  CHECK_FALSE(is_normal_exit(reason));
  CHECK(wait_for_restart(sys, *sup, "plain", plain));
  CHECK(rec->count("start:plain") == 2);
  stop_supervisor(sys, *sup);
}

TEST_CASE("one_for_all_absorbs_simultaneous_crashes_and_ends_with_all_children_running") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto rec = std::make_shared<event_recorder>();
  auto spec = three_children(strategy::one_for_all, rec);
  auto sup = start_supervisor(sys, spec);
  REQUIRE(sup);
  auto a = child_handle(sys, *sup, "a");
  auto c = child_handle(sys, *sup, "c");
  caf::anon_send(a, crash_atom::value);
  caf::anon_send(c, crash_atom::value);
  REQUIRE(herald::testing::eventually([&] {
    auto counts = count_children(sys, *sup);
    auto a2 = child_handle(sys, *sup, "a");
    auto c2 = child_handle(sys, *sup, "c");
    return counts && counts->active == 3 && a2 && a2 != a && c2 && c2 != c;
  }));
  // Each restart round starts all three in order; at most two rounds.
  auto starts = rec->with_prefix("start:").size();
  CHECK((starts == 6 || starts == 9));
  CHECK_FALSE(stop_supervisor(sys, *sup));
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
