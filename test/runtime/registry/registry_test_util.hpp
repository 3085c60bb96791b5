// SPDX-License-Identifier: Apache-2.0
#pragma once
// Helpers for registry tests: bounded waiting and tiny actors.
// Owned by the registry test binary; runs on test threads.
// Invariant: every wait is bounded in time and polls, never asserts timing.

#include <caf/all.hpp>

#include <chrono>
#include <thread>

namespace herald::registry::test {

using ping_atom = caf::atom_constant<caf::atom("ping")>;

/// Polls `pred` every millisecond for up to `limit`; returns its last value.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds{10}) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return pred();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
  return true;
}

/// An actor that answers (ping) with its own id and otherwise idles.
inline caf::behavior idle_actor(caf::event_based_actor* self) {
  return {[self](ping_atom) { return static_cast<uint64_t>(self->id()); }};
}

inline bool terminated(const caf::actor& a) {
  return caf::actor_cast<caf::abstract_actor*>(a)->getf(caf::abstract_actor::is_terminated_flag);
}

}  // namespace herald::registry::test
