// SPDX-License-Identifier: Apache-2.0
#pragma once
// Fixtures and helpers of the registry and groups tests: a stepped fixture (CAF's deterministic
// test coordinator) for single-threaded cases, a real actor system for the concurrency cases, a
// death signal, and tiny actors. Used from the test thread; death_watch is signalled from CAF
// threads. Invariant: no test waits by sleeping; every wait is on an explicit signal and bounded.

#include <caf/all.hpp>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "test/support/caf_dsl.hpp"
#include "test/support/eventually.hpp"

namespace herald::registry::test {

using ping_atom = caf::atom_constant<caf::atom("ping")>;

/// An actor that answers (ping) with its own id and otherwise idles.
inline caf::behavior idle_actor(caf::event_based_actor* self) {
  return {[self](ping_atom) { return static_cast<uint64_t>(self->id()); }};
}

inline bool terminated(const caf::actor& a) {
  return caf::actor_cast<caf::abstract_actor*>(a)->getf(caf::abstract_actor::is_terminated_flag);
}

/// Actors run only when the test steps them: a kill has taken effect, removal hooks included,
/// when kill() returns.
struct stepped_fixture : herald::testing::stepped_fixture {
  void kill(const caf::actor& a) {
    self->send_exit(a, caf::exit_reason::kill);
    sched.run();
  }
};

/// A real actor system (for the cases that race threads against each other).
struct threaded_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
};

/// Counts the deaths of watched actors. CAF runs an actor's attachables newest first, so watching
/// an actor *before* registering it makes its death count only after the registry's (or the
/// group's) removal hook has run: waiting for the count is waiting for the removal.
class death_watch {
public:
  void watch(const caf::actor& a) {
    auto s = state_;
    caf::actor_cast<caf::abstract_actor*>(a)->attach_functor([s] {
      {
        std::lock_guard<std::mutex> guard{s->mutex};
        ++s->dead;
      }
      s->changed.notify_all();
    });
  }
  /// Waits until `n` watched actors have died; false after `timeout`.
  bool wait_for(size_t n, std::chrono::milliseconds timeout = herald::testing::default_wait) {
    std::unique_lock<std::mutex> lock{state_->mutex};
    return state_->changed.wait_for(lock, timeout, [&] { return state_->dead >= n; });
  }

private:
  struct state {
    std::mutex mutex;
    std::condition_variable changed;
    size_t dead = 0;
  };
  std::shared_ptr<state> state_ = std::make_shared<state>();
};

}  // namespace herald::registry::test
