// SPDX-License-Identifier: Apache-2.0
#include "test/support/caf_dsl.hpp"

#include <cstdio>
#include <cstdlib>

// test_coordinator_fixture passes the command line of CAF's own test runner to the actor system
// config. Catch2 owns the command line here, so CAF's engine gets none (its unit_test_impl.hpp,
// with its main(), is not linked).
namespace caf::test {

int engine::argc() {
  return 0;
}

char** engine::argv() {
  return nullptr;
}

}  // namespace caf::test

namespace herald::testing {

stepped_fixture::~stepped_fixture() {
  // CAF's fixture destructor runs until no message and no timer is left; an actor that re-arms a
  // periodic timer (a live supervisor's mailbox sampling) would keep it running forever. Drain
  // here with a bound instead and abort loudly rather than hang the test run.
  constexpr size_t max_events = 100000;
  size_t events = 0;
  while (events < max_events && (sched.has_job() || sched.has_pending_timeout())) {
    if (!sched.try_run_once()) {
      sched.trigger_timeout();
    }
    ++events;
  }
  if (events == max_events) {
    std::fprintf(stderr,
                 "stepped_fixture: actors still busy after %zu events; a test left an actor with "
                 "a periodic timer running (stop it before the fixture ends)\n",
                 max_events);
    std::abort();
  }
}

}  // namespace herald::testing
