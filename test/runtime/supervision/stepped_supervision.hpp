// SPDX-License-Identifier: Apache-2.0
#pragma once
// Fixture of the stepped supervision tests: the supervisors under CAF's deterministic test
// coordinator (test/support/caf_dsl.hpp), recorded workers (test_workers.hpp) and non-blocking
// queries. Used from the test thread only; nothing runs until the test steps `sched`.
// Invariant: every query runs the queued messages (never timers) and fails the test case at once
// when no reply arrived, so a broken supervisor fails a test instead of hanging it.

#include <string>
#include <utility>
#include <vector>

#include "runtime/supervision/supervisor.hpp"
#include "test/runtime/supervision/test_workers.hpp"
#include "test/support/caf_dsl.hpp"

namespace herald::supervision::testing {

struct supervision_fixture : herald::testing::stepped_fixture {
  recorder_ptr rec = std::make_shared<herald::testing::event_recorder>();
  std::vector<caf::actor> supervisors;  // killed at the end, pass or fail

  /// Supervisors sample their mailbox on a periodic timer: kill them (children go with them) so
  /// that no timer re-arms after the test.
  ~supervision_fixture() override {
    for (auto& sup : supervisors) {
      self->send_exit(sup, caf::exit_reason::kill);
    }
    sched.run();
  }

  /// Remembers `sup` for the destructor and returns it.
  caf::actor track(caf::actor sup) {
    supervisors.push_back(sup);
    return sup;
  }

  /// Spawns the supervisor and runs its start (children started in order).
  caf::actor start(supervisor_spec spec) {
    auto sup = track(spawn_supervisor(sys, std::move(spec)));
    sched.run();
    return sup;
  }

  /// Asks `who` with `xs...` and returns its reply of type T.
  template <class T, class... Ts>
  T ask(const caf::actor& who, Ts&&... xs) {
    auto handle = self->request(who, caf::infinite, std::forward<Ts>(xs)...);
    sched.run();
    REQUIRE_FALSE(self->mailbox().empty());  // else receive() would block forever
    T result{};
    handle.receive([&](T& x) { result = std::move(x); },
                   [&](caf::error& err) { FAIL("request failed: " << describe(err)); });
    return result;
  }

  std::vector<child_info> children(const caf::actor& sup) {
    return ask<std::vector<child_info>>(sup, which_children_atom::value);
  }

  child_counts counts(const caf::actor& sup) {
    return ask<child_counts>(sup, count_children_atom::value);
  }

  /// Handle of static child `id` (invalid if it does not run).
  caf::actor child(const caf::actor& sup, const std::string& id) {
    for (auto& x : children(sup)) {
      if (x.id == id) {
        return x.handle;
      }
    }
    return caf::actor{};
  }

  /// Sends (crash) from the test and lets `worker` handle it: it throws and exits.
  void crash(const caf::actor& worker) {
    self->send(worker, crash_atom::value);
    expect((crash_atom), from(self).to(worker));
  }

  /// The exit reason of a monitored actor whose down message is already in self's mailbox.
  caf::error down_reason() {
    caf::error reason = make_error(supervision_errc::timeout, "no down message");
    self->receive([&](caf::down_msg& dm) { reason = std::move(dm.reason); },
                  caf::after(std::chrono::seconds{0}) >> [] {});
    return reason;
  }
};

}  // namespace herald::supervision::testing
