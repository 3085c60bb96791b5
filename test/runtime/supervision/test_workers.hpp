// SPDX-License-Identifier: Apache-2.0
#pragma once
// Test workers for the supervision tests: actors that record their start and stop into an
// event_recorder. Spawned by start functions on supervisor threads; the recorder is shared with the
// test thread. Invariant: "start:<id>" is recorded by the start function (supervisor order) and
// "stop:<id>:<reason>" by the worker before its monitors fire.

#include <memory>
#include <string>

#include <caf/all.hpp>

#include "runtime/supervision/dynamic_supervisor.hpp"
#include "runtime/supervision/supervisor.hpp"
#include "runtime/supervision/worker.hpp"
#include "test/support/event_recorder.hpp"

namespace herald::supervision::testing {

/// Throw std::runtime_error("boom").
using crash_atom = caf::atom_constant<caf::atom("t_crash")>;
/// Quit with exit_reason::normal.
using finish_atom = caf::atom_constant<caf::atom("t_finish")>;
/// Reply with the worker's id.
using whoami_atom = caf::atom_constant<caf::atom("t_whoami")>;

using recorder_ptr = std::shared_ptr<herald::testing::event_recorder>;

struct worker_state {
  caf::event_based_actor* self = nullptr;
  std::string id;
  recorder_ptr rec;
  // Runs in on_exit, i.e. before CAF sends the down message to monitors,
  // so "stop:" events appear in the order the supervisor stopped children.
  ~worker_state() {
    if (rec && self != nullptr) {
      rec->record("stop:" + id + ":" + describe(self->fail_state()));
    }
  }
};

inline caf::behavior recorded_worker(caf::stateful_actor<worker_state>* self, std::string id,
                                     recorder_ptr rec, bool ignore_shutdown) {
  self->state.self = self;
  self->state.id = id;
  self->state.rec = rec;
  install_crash_handler(self);
  if (ignore_shutdown) {
    // Traps exits and ignores them: only exit(kill) can end it.
    self->set_exit_handler(
        [rec, id](caf::exit_msg& em) { rec->record("ignored:" + id + ":" + describe(em.reason)); });
  }
  return {
      [](crash_atom) { throw std::runtime_error("boom"); },
      [self](finish_atom) { self->quit(); },
      [self](whoami_atom) { return self->state.id; },
  };
}

/// Spec of a recorded worker; records "start:<id>" (or "start:<id>:<key>"
/// for keyed children) on the supervisor thread when started.
inline child_spec recorded_child(
    std::string id, recorder_ptr rec, restart_type restart = restart_type::permanent,
    shutdown_policy shutdown = shutdown_policy::timeout(std::chrono::milliseconds{5000}),
    bool ignore_shutdown = false, std::string kind = "test_worker") {
  child_spec spec;
  spec.id = id;
  spec.restart = restart;
  spec.shutdown = shutdown;
  spec.kind = std::move(kind);
  spec.start = [id, rec, ignore_shutdown](const start_context& ctx) -> caf::expected<caf::actor> {
    auto name = ctx.key.is_none() ? id : id + ":" + ctx.key.to_string();
    rec->record("start:" + name);
    return ctx.system.spawn(recorded_worker, name, rec, ignore_shutdown);
  };
  return spec;
}

/// Waits for the down message of `who`; returns its reason (or a timeout error).
inline caf::error wait_down(caf::actor_system& sys, const caf::actor& who) {
  caf::scoped_actor self{sys};
  self->monitor(who);
  caf::error reason = make_error(supervision_errc::timeout, "wait_down");
  self->receive([&](caf::down_msg& dm) { reason = dm.reason; },
                caf::after(herald::testing::default_wait) >> [] {});
  return reason;
}

}  // namespace herald::supervision::testing
