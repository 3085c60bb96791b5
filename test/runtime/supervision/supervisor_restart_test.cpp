// SPDX-License-Identifier: Apache-2.0
// Static supervisor restarts, stepped message by message under CAF's deterministic test
// coordinator: no sleeps, no polling; timers (shutdown timeouts, restart windows) run on virtual
// time that the test advances.
#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>

#include "runtime/metrics/metrics.hpp"
#include "runtime/supervision/supervision_tree.hpp"
#include "test/runtime/supervision/stepped_supervision.hpp"

using namespace herald::supervision;
using namespace herald::supervision::testing;
using std::chrono::milliseconds;
using strings = std::vector<std::string>;

namespace {

const std::string boom = "sec::runtime_error: exception std::runtime_error: boom";

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

TEST_CASE_METHOD(supervision_fixture, "one_for_one_restarts_only_the_crashed_child") {
  auto sup = start(three_children(strategy::one_for_one, rec));
  auto a = child(sup, "a");
  auto b = child(sup, "b");
  auto c = child(sup, "c");
  crash(b);
  expect((caf::down_msg), from(_).to(sup));
  sched.run();
  auto b2 = child(sup, "b");
  CHECK((b2 && b2 != b));
  CHECK(child(sup, "a") == a);
  CHECK(child(sup, "c") == c);
  CHECK(rec->events() == strings{"start:a", "start:b", "start:c", "stop:b:" + boom, "start:b"});
}

TEST_CASE_METHOD(supervision_fixture, "one_for_all_stops_the_others_in_reverse_then_starts_all") {
  auto sup = start(three_children(strategy::one_for_all, rec));
  auto a = child(sup, "a");
  auto b = child(sup, "b");
  auto c = child(sup, "c");
  crash(b);
  expect((caf::down_msg), from(_).to(sup));
  // One stop at a time, each awaited: c first, then a.
  expect((caf::exit_msg),
         from(sup).to(c).with(caf::exit_msg{sup.address(), caf::exit_reason::user_shutdown}));
  expect((caf::down_msg), from(_).to(sup));
  expect((caf::exit_msg), from(sup).to(a));
  expect((caf::down_msg), from(_).to(sup));
  sched.run();
  CHECK(rec->events() == strings{"start:a", "start:b", "start:c", "stop:b:" + boom,
                                 "stop:c:exit_reason::user_shutdown",
                                 "stop:a:exit_reason::user_shutdown", "start:a", "start:b",
                                 "start:c"});
  CHECK(counts(sup).active == 3);
}

TEST_CASE_METHOD(supervision_fixture, "rest_for_one_restarts_the_child_and_later_siblings_only") {
  auto sup = start(three_children(strategy::rest_for_one, rec));
  auto a = child(sup, "a");
  auto b = child(sup, "b");
  auto c = child(sup, "c");
  crash(b);
  expect((caf::down_msg), from(_).to(sup));
  expect((caf::exit_msg), from(sup).to(c));
  expect((caf::down_msg), from(_).to(sup));
  sched.run();
  CHECK(rec->events() == strings{"start:a", "start:b", "start:c", "stop:b:" + boom,
                                 "stop:c:exit_reason::user_shutdown", "start:b", "start:c"});
  CHECK(child(sup, "a") == a);
}

TEST_CASE_METHOD(supervision_fixture, "permanent_child_restarts_after_a_normal_exit") {
  supervisor_spec spec;
  spec.children.push_back(recorded_child("p", rec, restart_type::permanent));
  auto sup = start(spec);
  auto p = child(sup, "p");
  self->send(p, finish_atom::value);
  expect((finish_atom), from(self).to(p));
  expect((caf::down_msg), from(_).to(sup));
  sched.run();
  CHECK(rec->events() == strings{"start:p", "stop:p:none", "start:p"});
  auto p2 = child(sup, "p");
  CHECK((p2 && p2 != p));
}

TEST_CASE_METHOD(supervision_fixture, "transient_child_restarts_only_after_an_abnormal_exit") {
  supervisor_spec spec;
  spec.intensity = restart_intensity{10, milliseconds{5000}};
  spec.children.push_back(recorded_child("t", rec, restart_type::transient));
  auto sup = start(spec);
  crash(child(sup, "t"));
  expect((caf::down_msg), from(_).to(sup));
  sched.run();
  auto t2 = child(sup, "t");
  REQUIRE(t2);
  self->send(t2, finish_atom::value);
  expect((finish_atom), from(self).to(t2));
  expect((caf::down_msg), from(_).to(sup));
  sched.run();
  CHECK(rec->events() == strings{"start:t", "stop:t:" + boom, "start:t", "stop:t:none"});
  // Still listed (OTP keeps the spec), not running.
  auto n = counts(sup);
  CHECK(n.specs == 1);
  CHECK(n.active == 0);
  CHECK_FALSE(child(sup, "t"));
}

TEST_CASE_METHOD(supervision_fixture, "temporary_child_is_never_restarted_and_is_forgotten") {
  supervisor_spec spec;
  spec.intensity = restart_intensity{10, milliseconds{5000}};
  spec.children.push_back(recorded_child("tmp", rec, restart_type::temporary));
  spec.children.push_back(recorded_child("keep", rec));
  auto sup = start(spec);
  crash(child(sup, "tmp"));
  expect((caf::down_msg), from(_).to(sup));
  sched.run();
  auto xs = children(sup);
  REQUIRE(xs.size() == 1);
  CHECK(xs.front().id == "keep");
  CHECK(rec->count("start:tmp") == 1);
}

// The whole escalation, one message at a time: crash -> restart -> crash -> intensity
// exceeded -> the survivor is stopped -> the supervisor exits with max_restarts_exceeded.
TEST_CASE_METHOD(supervision_fixture, "exceeding_restart_intensity_stops_children_and_exits") {
  supervisor_spec spec;
  spec.name = "fragile";
  spec.intensity = restart_intensity{1, milliseconds{5000}};  // OTP's default
  spec.children.push_back(recorded_child("a", rec));
  spec.children.push_back(recorded_child("b", rec));
  auto sup = start(spec);
  self->monitor(sup);
  auto a = child(sup, "a");
  auto b = child(sup, "b");
  crash(b);
  expect((caf::down_msg), from(_).to(sup));  // first restart: within the intensity
  sched.run();
  auto b2 = child(sup, "b");
  REQUIRE((b2 && b2 != b));
  crash(b2);
  expect((caf::down_msg), from(_).to(sup));  // second restart in the window: exceeded
  expect((caf::exit_msg), from(sup).to(a));  // survivors stopped in reverse order
  expect((caf::down_msg), from(_).to(sup));  // ... and awaited; then the supervisor quits
  sched.run();
  auto reason = down_reason();
  CHECK(is_error(reason, supervision_errc::max_restarts_exceeded));
  CHECK_THAT(describe(reason), Catch::Contains("fragile") && Catch::Contains("child 'b'"));
  CHECK(rec->events() == strings{"start:a", "start:b", "stop:b:" + boom, "start:b",
                                 "stop:b:" + boom, "stop:a:exit_reason::user_shutdown"});
}

// The restart window runs on the actor system's clock, so virtual time slides it.
TEST_CASE_METHOD(supervision_fixture, "restarts_further_apart_than_the_period_never_exceed_it") {
  supervisor_spec spec;
  spec.intensity = restart_intensity{1, milliseconds{5000}};
  spec.children.push_back(recorded_child("w", rec));
  auto sup = start(spec);
  self->monitor(sup);
  for (int round = 0; round < 3; ++round) {
    crash(child(sup, "w"));
    expect((caf::down_msg), from(_).to(sup));
    sched.run();
    sched.advance_time(milliseconds{5001});  // the last restart leaves the window
    sched.run();
  }
  CHECK(rec->count("start:w") == 4);
  CHECK(counts(sup).active == 1);
  // Two crashes within one period are one restart too many.
  crash(child(sup, "w"));
  expect((caf::down_msg), from(_).to(sup));
  sched.run();
  crash(child(sup, "w"));
  expect((caf::down_msg), from(_).to(sup));
  sched.run();
  CHECK(is_error(down_reason(), supervision_errc::max_restarts_exceeded));
}

TEST_CASE_METHOD(supervision_fixture, "nested_supervisor_escalation_triggers_the_parent_strategy") {
  supervisor_spec inner;
  inner.name = "inner";
  inner.intensity = restart_intensity{0, milliseconds{60000}};  // gives up on the first crash
  inner.children.push_back(recorded_child("w", rec));
  supervisor_spec outer;
  outer.name = "outer";
  outer.restart_strategy = strategy::rest_for_one;
  outer.intensity = restart_intensity{5, milliseconds{60000}};
  outer.children.push_back(recorded_child("before", rec));
  outer.children.push_back(supervisor_child(inner));
  outer.children.push_back(recorded_child("after", rec));
  auto sup = start(outer);
  auto before = child(sup, "before");
  auto inner1 = child(sup, "inner");
  auto after = child(sup, "after");
  auto w = child(inner1, "w");
  REQUIRE(w);
  crash(w);
  expect((caf::down_msg), from(_).to(inner1));  // inner: intensity 0 exceeded, it exits
  expect((caf::down_msg), from(_).to(sup));     // outer: rest_for_one from "inner"
  expect((caf::exit_msg), from(sup).to(after));
  expect((caf::down_msg), from(_).to(sup));
  sched.run();
  auto inner2 = child(sup, "inner");
  REQUIRE((inner2 && inner2 != inner1));
  CHECK(child(inner2, "w"));
  CHECK(child(sup, "before") == before);
  CHECK(rec->events() == strings{"start:before", "start:w", "start:after", "stop:w:" + boom,
                                 "stop:after:exit_reason::user_shutdown", "start:w",
                                 "start:after"});
}

TEST_CASE_METHOD(supervision_fixture, "child_that_ignores_shutdown_is_killed_after_its_timeout") {
  supervisor_spec spec;
  spec.children.push_back(recorded_child("polite", rec));
  spec.children.push_back(recorded_child("stubborn", rec, restart_type::permanent,
                                         shutdown_policy::timeout(milliseconds{200}), true));
  spec.children.push_back(
      recorded_child("brutal", rec, restart_type::permanent, shutdown_policy::brutal_kill()));
  auto sup = start(spec);
  self->monitor(sup);
  self->send_exit(sup, caf::exit_reason::user_shutdown);
  sched.run();
  // brutal is gone at once; stubborn ignored its shutdown and waits out its 200 ms.
  CHECK(rec->events() == strings{"start:polite", "start:stubborn", "start:brutal",
                                 "stop:brutal:exit_reason::kill",
                                 "ignored:stubborn:exit_reason::user_shutdown"});
  sched.advance_time(milliseconds{199});
  sched.run();
  CHECK(rec->with_prefix("stop:").size() == 1);
  sched.advance_time(milliseconds{1});
  sched.run();
  CHECK(rec->with_prefix("stop:") == strings{"stop:brutal:exit_reason::kill",
                                             "stop:stubborn:exit_reason::kill",
                                             "stop:polite:exit_reason::user_shutdown"});
  CHECK(down_reason() == caf::exit_reason::user_shutdown);
}

TEST_CASE_METHOD(supervision_fixture, "children_die_when_their_supervisor_is_killed") {
  supervisor_spec inner;
  inner.name = "inner";
  inner.children.push_back(recorded_child("grandchild", rec));
  supervisor_spec spec = three_children(strategy::one_for_one, rec);
  spec.children.push_back(supervisor_child(inner));
  auto sup = start(spec);
  self->send_exit(sup, caf::exit_reason::kill);
  sched.run();
  CHECK(rec->with_prefix("stop:").size() == 4);
  CHECK(rec->count("stop:grandchild:exit_reason::kill") == 1);
  CHECK(rec->count("stop:a:exit_reason::kill") == 1);
}

TEST_CASE_METHOD(supervision_fixture, "exception_in_a_child_is_a_crash_with_a_clear_reason") {
  supervisor_spec spec;
  spec.children.push_back(recorded_child("thrower", rec));
  auto sup = start(spec);
  auto t = child(sup, "thrower");
  self->monitor(t);
  crash(t);
  CHECK(down_reason() == crash_reason(std::make_exception_ptr(std::runtime_error("boom"))));
  expect((caf::down_msg), from(_).to(sup));
  sched.run();
  auto t2 = child(sup, "thrower");
  CHECK((t2 && t2 != t));
  CHECK(rec->count("stop:thrower:" + boom) == 1);
}

// CAF 0.17.6's own exception handler prints to stdout and returns a bare
// sec::runtime_error without context; supervision still restarts the child.
TEST_CASE_METHOD(supervision_fixture,
                 "exception_in_a_child_without_crash_handler_is_still_a_restartable_crash") {
  supervisor_spec spec;
  auto starts = std::make_shared<int>(0);
  spec.children.push_back(
      worker_spec("plain", [starts](const start_context& ctx) -> caf::expected<caf::actor> {
        ++*starts;
        return ctx.system.spawn([](caf::event_based_actor*) -> caf::behavior {
          return {[](crash_atom) { throw std::logic_error("plain boom"); }};
        });
      }));
  auto sup = start(spec);
  auto plain = child(sup, "plain");
  self->monitor(plain);
  crash(plain);
  auto reason = down_reason();
  CHECK(reason == caf::sec::runtime_error);
  CHECK_FALSE(is_normal_exit(reason));
  expect((caf::down_msg), from(_).to(sup));
  sched.run();
  CHECK(*starts == 2);
  CHECK(child(sup, "plain"));
}

TEST_CASE_METHOD(supervision_fixture,
                 "one_for_all_absorbs_simultaneous_crashes_and_ends_with_all_children_running") {
  auto sup = start(three_children(strategy::one_for_all, rec));
  auto a = child(sup, "a");
  auto c = child(sup, "c");
  self->send(a, crash_atom::value);
  self->send(c, crash_atom::value);
  sched.run();
  auto n = counts(sup);
  CHECK(n.active == 3);
  auto a2 = child(sup, "a");
  auto c2 = child(sup, "c");
  CHECK((a2 && a2 != a && c2 && c2 != c));
  // Each restart round starts all three in order; at most two rounds.
  auto starts = rec->with_prefix("start:").size();
  CHECK((starts == 6 || starts == 9));
}

TEST_CASE_METHOD(supervision_fixture, "supervision_tree_lists_live_supervisors_and_drops_them") {
  supervisor_spec inner;
  inner.name = "tree_inner";
  inner.children.push_back(recorded_child("x", rec));
  supervisor_spec outer = three_children(strategy::one_for_all, rec, "tree_root");
  outer.children.push_back(supervisor_child(inner));
  auto sup = start(outer);
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
  auto nested = find("tree_inner");
  REQUIRE(nested);
  CHECK(nested->parent == "tree_root");
  CHECK_THAT(render_supervision_tree(),
             Catch::Contains("tree_root strategy=one_for_all children=4 restarts=0\n"
                             "  tree_inner strategy=one_for_one children=1 restarts=0"));
  self->send_exit(sup, caf::exit_reason::user_shutdown);
  sched.run();
  CHECK_FALSE(find("tree_root"));
  CHECK_FALSE(find("tree_inner"));
}

TEST_CASE_METHOD(supervision_fixture, "restarts_counter_and_actors_alive_gauge_follow_children") {
  auto& reg = herald::metrics::registry::global();
  auto alive = [&] { return reg.value_of("herald_actors_alive", {{"kind", "metric_kind"}}); };
  auto restarts = [&] {
    return reg.value_of("herald_supervisor_restarts_total", {{"supervisor", "metric_sup"}});
  };
  auto alive0 = alive();
  auto restarts0 = restarts();
  supervisor_spec spec;
  spec.name = "metric_sup";
  for (auto id : {"m1", "m2"}) {
    spec.children.push_back(recorded_child(id, rec, restart_type::permanent,
                                           shutdown_policy::timeout(milliseconds{5000}), false,
                                           "metric_kind"));
  }
  auto sup = start(spec);
  CHECK(alive() == alive0 + 2);
  crash(child(sup, "m1"));
  CHECK(alive() == alive0 + 1);
  expect((caf::down_msg), from(_).to(sup));
  sched.run();
  CHECK(restarts() == restarts0 + 1);
  CHECK(alive() == alive0 + 2);
  bool listed = false;
  for (auto& k : actors_alive_by_kind()) {
    listed = listed || (k.kind == "metric_kind" && k.alive == alive0 + 2);
  }
  CHECK(listed);
  self->send_exit(sup, caf::exit_reason::user_shutdown);
  sched.run();
  CHECK(alive() == alive0);
}
