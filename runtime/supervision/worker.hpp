// SPDX-License-Identifier: Apache-2.0
#pragma once
// Helpers for writing supervised workers: a clear crash reason for exceptions, and spawn_worker()
// that installs it. Used inside start functions (supervisor thread) and inside actors (their own
// thread); no shared state. Invariant: an exception escaping a handler ends the actor with
// sec::runtime_error "exception <type>: <what>" and is not printed by the actor, so its supervisor
// logs it exactly once.

#include <exception>
#include <string>
#include <utility>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/detail/type_traits.hpp>
#include <caf/error.hpp>
#include <caf/scheduled_actor.hpp>
#include <caf/spawn_options.hpp>

namespace herald::supervision {

/// sec::runtime_error with context "exception <demangled type>: <what>"
/// ("exception of unknown type" for non-std exceptions).
caf::error crash_reason(const std::exception_ptr& ex);

/// Replaces CAF's default exception handler (which prints to stdout) with one
/// returning crash_reason(). Call on the actor's own thread, e.g. first thing
/// in its behavior function; spawn_worker() does it for you.
void install_crash_handler(caf::scheduled_actor* self);

/// Spawns a function-based actor `fun(self, xs...)` (self is
/// caf::event_based_actor* or caf::stateful_actor<S>*) with the crash handler
/// installed before `fun` runs. `Os` are CAF spawn options; pass
/// caf::lazy_init for idle-heavy workers (initialised on their first message,
/// ~60 bytes cheaper while idle). Neither links nor monitors: the supervisor
/// that calls this from a start function monitors the result.
template <caf::spawn_options Os = caf::no_spawn_options, class F, class... Ts>
caf::actor spawn_worker(caf::actor_system& sys, F fun, Ts... xs) {
  using trait = caf::detail::get_callable_trait<F>;
  using self_ptr = typename caf::detail::tl_head<typename trait::arg_types>::type;
  return sys.spawn<Os>([fun, xs...](self_ptr self) mutable {
    install_crash_handler(self);
    return fun(self, std::move(xs)...);
  });
}

}  // namespace herald::supervision
