// SPDX-License-Identifier: Apache-2.0
#pragma once
// CAF 0.17's deterministic test DSL (caf/test/dsl.hpp) inside Catch2 test cases: a fixture with
// the test coordinator (`sched`, `sys`, `self`) and the `expect`, `allow`, `disallow` clauses.
// Include this header instead of <caf/test/dsl.hpp>; use it from the test thread only.
//
// dsl.hpp reports through CAF's own unit-test macros (CAF_CHECK, CAF_REQUIRE, CAF_FAIL, ...);
// this header routes them to Catch2 before dsl.hpp is read. CAF's clauses run their checks in
// destructors, where a failed Catch2 REQUIRE (an exception) would terminate the process, so
// `expect`, `allow` and `disallow` are redefined to run the same checks in a member function
// and to disarm the destructor.
//
// Under the test coordinator nothing runs until the test steps it: `sched.run()` runs every queued
// message (no timers), `sched.run_once()` one, `sched.trigger_timeout()` / `advance_time(d)` fire
// timers (virtual time). Blocking calls that wait on an actor (scoped_actor::request().receive,
// the runtime's start_supervisor, call<T>) would wait forever: send with `self->send` or
// `self->request(...)`, step with sched.run(), then receive what is already in self's mailbox.
// CAF's fixture helpers run() and request<T>() also fire every timer until none is left, which
// never ends while a supervisor (periodic mailbox sampling) lives: step `sched` instead.
// Invariant: a stepped_fixture's destructor drains the remaining messages and timers with a bound
// (CAF's own would loop forever on an actor that re-arms a periodic timer, such as a live
// supervisor); fixtures that spawn such actors stop them in their own destructor.

#include <catch2/catch.hpp>

#include <caf/test/unit_test.hpp>

#undef CAF_CHECK
#undef CAF_CHECK_EQUAL
#undef CAF_REQUIRE
#undef CAF_REQUIRE_EQUAL
#undef CAF_FAIL
#undef CAF_ERROR
#undef CAF_MESSAGE
#define CAF_CHECK(...) CHECK(__VA_ARGS__)
#define CAF_CHECK_EQUAL(x, y) CHECK((x) == (y))
#define CAF_REQUIRE(...) REQUIRE(__VA_ARGS__)
#define CAF_REQUIRE_EQUAL(x, y) REQUIRE((x) == (y))
#define CAF_FAIL(msg) FAIL(msg)
#define CAF_ERROR(msg) FAIL_CHECK(msg)
#define CAF_MESSAGE(msg) static_cast<void>(0)

#include <caf/test/dsl.hpp>

#undef expect
#undef allow
#undef disallow

namespace herald::testing {

/// CAF's expect clause with its check and step moved out of the destructor.
template <class... Ts>
class stepped_expect : public expect_clause<Ts...> {
public:
  using expect_clause<Ts...>::expect_clause;
  ~stepped_expect() { this->peek_ = nullptr; }
  /// Checks the next message of the `to` actor (type, sender, `with` values), then lets that
  /// actor handle it.
  void finish() {
    auto check = std::move(this->peek_);
    this->peek_ = nullptr;
    check();
    this->run_once();
  }
};

/// CAF's allow clause, evaluated exactly once (CAF 0.17's evaluates in the macro and again in
/// its destructor, which could consume a second matching message).
template <class... Ts>
class stepped_allow : public allow_clause<Ts...> {
public:
  using allow_clause<Ts...>::allow_clause;
  ~stepped_allow() { this->peek_ = nullptr; }
};

/// CAF's disallow clause with its check moved out of the destructor.
template <class... Ts>
class stepped_disallow : public disallow_clause<Ts...> {
public:
  using disallow_clause<Ts...>::disallow_clause;
  ~stepped_disallow() { this->check_ = nullptr; }
  void finish() {
    auto check = std::move(this->check_);
    this->check_ = nullptr;
    check();
  }
};

/// CAF's test_coordinator_fixture: `sys` runs on the deterministic `sched`; `self` is a scoped
/// actor of the test thread. Use with TEST_CASE_METHOD.
class stepped_fixture : public test_coordinator_fixture<> {
public:
  ~stepped_fixture() override;
};

}  // namespace herald::testing

/// expect((types...), from(a).to(b).with(values...)): the next message of `b` has these types
/// (and values; `_` matches any) and comes from `a` (`_` for any sender); `b` then handles it.
/// A mismatch fails the test case (REQUIRE).
#define expect(types, fields)                                                              \
  do {                                                                                     \
    ::herald::testing::stepped_expect<CAF_EXPAND(CAF_DSL_LIST types)> expect_step_{sched}; \
    expect_step_.fields;                                                                   \
    expect_step_.finish();                                                                 \
  } while (false)

/// allow((types...), from(a).to(b).with(values...)): if `b`'s next message matches, `b` handles
/// it and the expression is true; otherwise nothing happens and it is false. `with` values must
/// match or be `_` (a mismatching value is reported as a failed CHECK, as in CAF).
#define allow(types, fields)                                                    \
  ([&] {                                                                        \
    ::herald::testing::stepped_allow<CAF_EXPAND(CAF_DSL_LIST types)> x_{sched}; \
    x_.fields;                                                                  \
    return x_.eval();                                                           \
  })()

/// disallow((types...), from(a).to(b)): fails the test case if `b`'s next message matches.
#define disallow(types, fields)                                               \
  do {                                                                        \
    ::herald::testing::stepped_disallow<CAF_EXPAND(CAF_DSL_LIST types)> x_{}; \
    x_.fields;                                                                \
    x_.finish();                                                              \
  } while (false)
