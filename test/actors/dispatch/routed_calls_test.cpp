// SPDX-License-Identifier: Apache-2.0
// routed_calls: the router's calls in flight. A call whose owner is declared down is answered at
// once with the error given, exactly once: its late answer then finds nothing to settle; calls
// to owners still up are left alone and settle normally.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "actors/dispatch/routed_calls.hpp"
#include "actors/services/dispatch_error.hpp"

using namespace herald;
using dispatch::routed_calls;

namespace {

caf::error down_error(uint16_t owner) {
  return dispatch::make_error(dispatch::dispatch_errc::unavailable,
                              "node " + std::to_string(owner) + " down");
}

}  // namespace

TEST_CASE("calls_to_an_owner_declared_down_fail_at_once_and_their_late_answer_is_dropped") {
  routed_calls calls;
  std::vector<std::string> failed;
  auto record = [&](const std::string& name) {
    return [&failed, name](caf::error err) {
      failed.push_back(name + ": " + dispatch::describe(err));
    };
  };
  auto a1 = calls.add(2, record("a1"));
  auto b = calls.add(3, record("b"));
  auto a2 = calls.add(2, record("a2"));
  REQUIRE(calls.size() == 3);

  CHECK(calls.fail_not_up({1, 3}, down_error) == 2);  // node 2 is no longer up
  REQUIRE(failed.size() == 2);
  CHECK(failed[0].find("a1: ") == 0);  // in the order added
  CHECK(failed[0].find("node 2 down") != std::string::npos);
  CHECK(failed[0].find("unavailable") != std::string::npos);
  CHECK(failed[1].find("a2: ") == 0);
  CHECK(calls.size() == 1);

  CHECK_FALSE(calls.settle(a1));  // the owner's late answer: already answered
  CHECK_FALSE(calls.settle(a2));
  CHECK(calls.settle(b));  // node 3 is up: its call is answered by its own reply
  CHECK_FALSE(calls.settle(b));
  CHECK(calls.fail_not_up({}, down_error) == 0);
  CHECK(failed.size() == 2);
}

TEST_CASE("a_settled_call_is_not_failed_when_its_owner_goes_down_later") {
  routed_calls calls;
  int fails = 0;
  auto id = calls.add(5, [&](caf::error) { ++fails; });
  CHECK(calls.settle(id));
  CHECK(calls.fail_not_up({}, down_error) == 0);
  CHECK(fails == 0);
}
