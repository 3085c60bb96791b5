// SPDX-License-Identifier: Apache-2.0
#include "actors/relay/relay_partition.hpp"

#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/make_counted.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/encoding/encode.hpp"
#include "actors/relay/delivery_observer.hpp"
#include "actors/relay/relay_messages.hpp"
#include "runtime/metrics/actor_metrics.hpp"

namespace herald::relay {

namespace {

metrics::counter& deliveries_counter() {
  static auto& c = metrics::registry::global().get_counter(
      "herald_relay_deliveries_total", "Frames written into session buffers by relays");
  return c;
}

metrics::counter& events_counter() {
  static auto& c = metrics::registry::global().get_counter(
      "herald_relay_events_total", "Guild events fanned out by relay partitions");
  return c;
}

metrics::counter& duplicates_counter() {
  static auto& c = metrics::registry::global().get_counter(
      "herald_relay_duplicates_dropped_total",
      "Events relay partitions dropped because their cursor was already at or past them (a "
      "replay from a guild's event tail overlapping what they had)");
  return c;
}

metrics::counter& handled() {
  static auto& c = metrics::messages_handled("relay_partition");
  return c;
}

struct partition_state {
  // Starts with an empty view (no class sees anything) until the guild's
  // view_reset arrives, which precedes any subscriber.
  partition_core core_{caf::make_counted<view_snapshot>(0, 0)};
  std::vector<size_t> delivered_;  // per event of the batch being delivered
  caf::actor relay_;               // told of resynced sessions (resynced_atom)
  std::string unavailable_tail_;   // GUILD_DELETE with "unavailable": true
  static inline const char* name = "relay_partition";
};

using partition_actor = caf::stateful_actor<partition_state>;

// The events of `batch` after the cursor (all of them unless a replay overlaps), counted.
std::vector<dispatch_event_ptr> fresh_events(partition_core& core, const dispatch_batch& batch) {
  std::vector<dispatch_event_ptr> out;
  out.reserve(batch.events.size());
  for (const auto& e : batch.events) {
    if (core.take(*e)) {
      out.push_back(e);
    } else {
      duplicates_counter().inc();
    }
  }
  return out;
}

void deliver_batch(partition_actor* self, const std::vector<dispatch_event_ptr>& events) {
  auto& delivered = self->state.delivered_;
  self->state.core_.deliver(events, delivered);
  size_t total = 0;
  for (size_t d : delivered) {
    total += d;
  }
  deliveries_counter().inc(total);
  events_counter().inc(events.size());
  if (auto observe = delivery_observer()) {
    for (size_t k = 0; k < delivered.size(); ++k) {
      const auto& event = *events[k];
      observe(event.guild_id, event.guild_order, delivered[k]);
    }
  }
}

caf::behavior partition_behavior(partition_actor* self, uint64_t guild_id, caf::actor relay) {
  self->state.core_ =
      partition_core{caf::make_counted<view_snapshot>(0, 0), encoding::guild_delete_tail(guild_id)};
  self->state.relay_ = std::move(relay);
  self->state.unavailable_tail_ = encoding::guild_unavailable_tail(guild_id);
  return {
      [self](const dispatch_event_ptr& event) {
        handled().inc();
        if (!self->state.core_.take(*event)) {
          duplicates_counter().inc();
          return;
        }
        auto delivered = self->state.core_.deliver(*event);
        deliveries_counter().inc(delivered);
        events_counter().inc();
        if (auto observe = delivery_observer()) {
          observe(event->guild_id, event->guild_order, delivered);
        }
      },
      [self](const dispatch_batch_ptr& batch) {
        handled().inc();
        auto& core = self->state.core_;
        const auto& events = batch->events;
        if (!events.empty() && core.take(*events.front()) && core.take(*events.back())) {
          // The usual case: the whole batch is after the cursor (positions grow within it).
          deliver_batch(self, events);
        } else {
          deliver_batch(self, fresh_events(core, *batch));
        }
      },
      [self](const view_update_ptr& update) {
        handled().inc();
        deliveries_counter().inc(self->state.core_.apply(*update));
      },
      [self](const view_reset& reset) {
        handled().inc();
        auto& st = self->state;
        st.core_.reset(reset.view, *reset.class_of_user);
        auto users = st.core_.sync(reset.at, reset.replay_from, st.unavailable_tail_);
        if (!users.empty() && st.relay_) {
          self->send(st.relay_, resynced_atom::value, std::move(users));
        }
      },
      [self](cursor_atom) {
        handled().inc();
        auto c = self->state.core_.cursor();
        return caf::make_message(c.epoch, c.order);
      },
      [self](const add_subscriber& sub) {
        handled().inc();
        self->state.core_.add(sub.output, sub.view_class, sub.guild_create_tail);
      },
      [self](remove_session_atom, uint64_t session_id) {
        handled().inc();
        self->state.core_.remove(session_id);
      },
      [self](remove_user_atom, uint64_t user_id) {
        handled().inc();
        self->state.core_.remove_user(user_id);
      },
  };
}

}  // namespace

caf::actor spawn_relay_partition(caf::actor_system& sys, uint64_t guild_id, caf::actor relay) {
  return sys.spawn(partition_behavior, guild_id, std::move(relay));
}

}  // namespace herald::relay
