// SPDX-License-Identifier: Apache-2.0
#pragma once
// The herald way to write a server actor (OTP's gen_server on CAF 0.17), plus
// the call/cast helpers it is used with. A server runs wherever it is spawned,
// normally under a supervisor; its state is touched only by its own handlers.
// Invariant: every handler is documented where it is declared, once.
//
// Pattern (see docs/server.md for a complete example compiled by a test):
//
//   // counter_server.hpp — the message interface, one line per message:
//   using add_atom = caf::atom_constant<caf::atom("add")>;
//   using get_atom = caf::atom_constant<caf::atom("get")>;
//   /// Spawns a counter; `initial` is its start value.
//   caf::actor spawn_counter(caf::actor_system& sys, int64_t initial);
//
//   // counter_server.cpp — state struct and behavior:
//   struct counter_state {
//     int64_t value_ = 0;                       // invariant: never negative
//     static inline const char* name = "counter";
//   };
//   caf::behavior counter(caf::stateful_actor<counter_state>* self,
//                         int64_t initial) {
//     self->state.value_ = initial;
//     return {
//       // (add, n): cast; adds n >= 0. Negative n: replies
//       // sec::invalid_argument to a call, ignored by a cast.
//       [self](add_atom, int64_t n) -> caf::result<void> { ... },
//       // (get): call; replies the current value; no state change.
//       [self](get_atom) { return self->state.value_; },
//     };
//   }
//
// Rules: handlers are short and call named functions past ~15 lines; a
// handler answers a call by returning a value, caf::result<T> or an error
// (never by blocking); long work goes to another actor, answered later with
// self->make_response_promise(); unrecoverable state ends the actor with
// self->quit(reason) so its supervisor restarts it.

#include "runtime/server/call.hpp"
#include "runtime/server/call_error.hpp"
