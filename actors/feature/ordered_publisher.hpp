// SPDX-License-Identifier: Apache-2.0
#pragma once
// One publish in flight: a feature actor's changes are checked and published through their
// guild in arrival order, each only after the guild acked (or refused) its predecessor, so
// the guild orders them as they arrived and each is prepared against the state its
// predecessors left. Lives in the owning actor's state; every member runs on that actor's
// thread. Invariant: `prepare` of a change runs only after `done` of every earlier change.
//
// Why not several requests at once: CAF keeps per-sender order, but not when the first
// request waits for its guild to start while the second finds it registered.

#include <chrono>
#include <deque>
#include <functional>
#include <optional>

#include <caf/event_based_actor.hpp>
#include <caf/expected.hpp>

#include "actors/guild/guild_actor.hpp"
#include "actors/services/services.hpp"
#include "proto/domain.pb.h"

namespace herald::feature {

/// A change waiting for its turn.
struct ordered_change {
  /// Runs when the change reaches the front. Returns the event to publish, or nullopt when the
  /// change needs no publish (a repeat, a refusal): it has answered its caller itself then.
  std::function<std::optional<proto::event>()> prepare;
  /// Runs with the guild's ack or error, only if `prepare` returned an event. Apply the change
  /// to the actor's state on success only: its state then holds exactly what the guild ordered.
  std::function<void(caf::expected<guild::publish_ack>)> done;
};

class ordered_publisher {
public:
  /// `self` owns this publisher (in its state); `svc` places guilds (dispatch::place), starts
  /// the ones this node owns and routes the others to their owner.
  ordered_publisher(caf::event_based_actor* self, dispatch::services_ptr svc);

  /// Queues `change`; prepares and publishes it now if nothing is in flight.
  void push(ordered_change change);

  /// Changes queued or in flight.
  size_t pending() const { return queue_.size(); }

private:
  void pump();
  void publish_front(proto::event event);
  void finish_front(caf::expected<guild::publish_ack> result);

  caf::event_based_actor* self_;
  dispatch::services_ptr svc_;
  /// Arrival order; the front is in flight while publishing_.
  std::deque<ordered_change> queue_;
  bool publishing_ = false;
};

}  // namespace herald::feature
