// SPDX-License-Identifier: Apache-2.0
#include "runtime/server/server.hpp"

#include <catch2/catch.hpp>

#include <caf/all.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <tuple>

#include "test/support/caf_dsl.hpp"

using namespace herald::server;
using namespace std::chrono_literals;

namespace {

using add_atom = caf::atom_constant<caf::atom("add")>;
using get_atom = caf::atom_constant<caf::atom("get")>;
using pair_atom = caf::atom_constant<caf::atom("pair")>;
using reset_atom = caf::atom_constant<caf::atom("reset")>;
using hang_atom = caf::atom_constant<caf::atom("hang")>;
using fail_atom = caf::atom_constant<caf::atom("fail")>;
using relay_atom = caf::atom_constant<caf::atom("relay")>;

struct echo_state {
  int64_t total_ = 0;
  caf::response_promise held_;  // a request that is never answered
};

caf::behavior echo(caf::stateful_actor<echo_state>* self) {
  return {
      [self](add_atom, int64_t n) { self->state.total_ += n; },
      [self](get_atom) { return self->state.total_; },
      [](pair_atom, int64_t n) { return caf::make_message(n, std::to_string(n)); },
      [self](reset_atom) { self->state.total_ = 0; },
      [self](hang_atom) -> caf::result<int64_t> {
        self->state.held_ = self->make_response_promise();
        return caf::delegated<int64_t>{};
      },
      [](fail_atom) -> caf::result<int64_t> { return caf::sec::invalid_argument; },
  };
}

struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  caf::actor server = sys.spawn(echo);

  ~fixture() { caf::anon_send_exit(server, caf::exit_reason::kill); }
};

/// An actor that performs one async call<R> and reports the outcome to `to`
/// as (relay, ok, error_name).
template <class R, class... Ts>
caf::actor spawn_async_caller(caf::actor_system& sys, caf::actor to, caf::actor dst,
                              caf::timespan timeout, Ts... xs) {
  return sys.spawn([=](caf::event_based_actor* self) {
    call<R>(self, dst, timeout, xs...).then([=](call_result<R> r) {
      self->send(to, relay_atom::value, r.ok(), r.ok() ? std::string{"ok"} : to_string(*r.error()));
      self->quit();
    });
  });
}

/// The same server under CAF's deterministic test coordinator: actors run when the test steps
/// them and call timeouts fire on virtual time, so nothing is waited for.
struct stepped : herald::testing::stepped_fixture {
  caf::actor server = sys.spawn(echo);

  // A held response promise keeps the server reachable: the system would wait for it forever.
  ~stepped() override {
    self->send_exit(server, caf::exit_reason::kill);
    sched.run();
  }

  /// Runs the queued messages; returns what an async caller relayed to self ("no_reply" if none).
  std::string relayed() {
    sched.run();
    std::string out = "no_reply";
    self->receive([&](relay_atom, bool, const std::string& what) { out = what; },
                  caf::after(std::chrono::seconds{0}) >> [] {});
    return out;
  }

  /// The server's total, asked without blocking the (single) test coordinator.
  int64_t total() {
    auto reply = self->request(server, caf::infinite, get_atom::value);
    sched.run();
    REQUIRE_FALSE(self->mailbox().empty());  // else receive() would block forever
    int64_t out = -1;
    reply.receive([&](int64_t x) { out = x; }, [](caf::error&) {});
    return out;
  }
};

}  // namespace

TEST_CASE_METHOD(fixture, "call_returns_the_typed_reply") {
  cast(server, add_atom::value, int64_t{40});
  cast(server, add_atom::value, int64_t{2});
  auto r = call<int64_t>(sys, server, get_atom::value);  // default 5 s timeout
  REQUIRE(r);
  CHECK(r.value() == 42);
  caf::scoped_actor self{sys};
  auto pair =
      call<std::tuple<int64_t, std::string>>(self, server, 1s, pair_atom::value, int64_t{7});
  REQUIRE(pair);
  CHECK(std::get<0>(pair.value()) == 7);
  CHECK(std::get<1>(pair.value()) == "7");
  auto done = call<void>(self, server, reset_atom::value);
  CHECK(done.ok());
  CHECK(call<int64_t>(self, server, get_atom::value).value() == 0);
}

TEST_CASE_METHOD(fixture, "call_to_an_actor_that_never_replies_times_out") {
  auto r = call<int64_t>(sys, server, 100ms, hang_atom::value);
  REQUIRE_FALSE(r);
  CHECK(r.error() == call_error::timeout);
  CHECK(to_string(*r.error()) == "timeout");
  // The server is still serving after the abandoned call.
  CHECK(call<int64_t>(sys, server, get_atom::value).ok());
}

TEST_CASE_METHOD(fixture, "call_to_a_dead_or_invalid_actor_reports_actor_down") {
  caf::scoped_actor self{sys};
  auto victim = sys.spawn(echo);
  self->send_exit(victim, caf::exit_reason::kill);
  self->wait_for(victim);
  auto r = call<int64_t>(self, victim, 1s, get_atom::value);
  REQUIRE_FALSE(r);
  CHECK(r.error() == call_error::actor_down);
  CHECK(call<int64_t>(self, caf::actor{}, 1s, get_atom::value).error() == call_error::actor_down);
}

TEST_CASE_METHOD(fixture, "call_queued_behind_the_actors_exit_reports_actor_down") {
  auto victim = sys.spawn(echo);
  caf::anon_send_exit(victim, caf::exit_reason::user_shutdown);
  auto r = call<int64_t>(sys, victim, 5s, get_atom::value);
  CHECK(r.error() == call_error::actor_down);
}

TEST_CASE_METHOD(fixture, "call_reports_errors_the_actor_returns") {
  caf::scoped_actor self{sys};
  auto r = call<int64_t>(self, server, 1s, fail_atom::value);
  REQUIRE_FALSE(r);
  CHECK(r.error() == call_error::actor_error);
  CHECK(r.cause() == caf::sec::invalid_argument);
  auto wrong = call<std::string>(self, server, 1s, get_atom::value);
  CHECK(wrong.error() == call_error::unexpected_reply);
  auto unknown = call<int64_t>(self, server, 1s, std::string{"what"});
  CHECK(unknown.error() == call_error::unhandled_request);
}

TEST_CASE_METHOD(stepped, "async_call_from_an_actor_delivers_result_or_error") {
  cast(server, add_atom::value, int64_t{5});
  spawn_async_caller<int64_t>(sys, self, server, 1s, get_atom::value);
  CHECK(relayed() == "ok");
  spawn_async_caller<int64_t>(sys, self, server, 100ms, hang_atom::value);
  CHECK(relayed() == "no_reply");  // the server holds the request
  sched.advance_time(99ms);
  CHECK(relayed() == "no_reply");
  sched.advance_time(1ms);  // the call's timeout, on virtual time
  CHECK(relayed() == "timeout");
  spawn_async_caller<int64_t>(sys, self, server, 1s, fail_atom::value);
  CHECK(relayed() == "actor_error");
  spawn_async_caller<int64_t>(sys, self, caf::actor{}, 1s, get_atom::value);
  CHECK(relayed() == "actor_down");
}

TEST_CASE_METHOD(stepped, "cast_from_thread_and_actor_is_fire_and_forget") {
  for (int i = 0; i < 100; ++i) {
    cast(server, add_atom::value, int64_t{1});
  }
  auto target = server;
  sys.spawn([target](caf::event_based_actor* self) {
    cast(self, target, add_atom::value, int64_t{1000});
  });
  sched.run();  // the actor casts when it first runs
  CHECK(total() == 1100);
  cast(caf::actor{}, add_atom::value, int64_t{1});  // no-op, no crash
  CHECK(total() == 1100);
}

TEST_CASE("call_errors_have_stable_names_and_classification") {
  CHECK(to_string(call_error::actor_down) == "actor_down");
  CHECK(to_string(call_error::unexpected_reply) == "unexpected_reply");
  CHECK(to_string(call_error::unhandled_request) == "unhandled_request");
  CHECK(to_string(call_error::actor_error) == "actor_error");
  CHECK(classify(caf::make_error(caf::exit_reason::kill)) == call_error::actor_down);
  CHECK(classify(caf::make_error(caf::sec::request_receiver_down)) == call_error::actor_down);
  CHECK(classify(caf::make_error(caf::sec::request_timeout)) == call_error::timeout);
  CHECK(default_call_timeout == std::chrono::seconds{5});
}
