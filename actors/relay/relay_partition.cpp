// SPDX-License-Identifier: Apache-2.0
#include "actors/relay/relay_partition.hpp"

#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/make_counted.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/encoding/encode.hpp"
#include "actors/relay/delivery_observer.hpp"
#include "actors/relay/migrant_admission.hpp"
#include "actors/relay/recent_events.hpp"
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
  std::vector<size_t> delivered_;          // per event of the batch being delivered
  std::vector<dispatch_event_ptr> fresh_;  // a batch's events after the cursor, when not all
  caf::actor relay_;                       // told of resynced sessions (resynced_atom)
  recent_events recent_{0, 0};             // bounds set at spawn
  migrant_admission migrants_;
  std::string unavailable_tail_;  // GUILD_DELETE with "unavailable": true (resyncs)
  static inline const char* name = "relay_partition";
};

using partition_actor = caf::stateful_actor<partition_state>;

void observe_one(const dispatch_event& event, size_t delivered) {
  deliveries_counter().inc(delivered);
  if (auto observe = delivery_observer()) {
    observe(event.guild_id, event.guild_order, delivered);
  }
}

void deliver_batch(partition_actor* self, const std::vector<dispatch_event_ptr>& events) {
  auto& st = self->state;
  for (const auto& event : events) {
    st.recent_.push(event);  // before delivering: the batch is delivered whole below
  }
  events_counter().inc(events.size());
  if (st.migrants_.has_waiting()) {
    // A migrant waits for its cursor: event by event, so that it joins right before the first
    // event after its cursor. Rare (only during a migration); the batch path is the norm.
    for (const auto& event : events) {
      st.migrants_.before_event(st.core_, event->guild_order);
      observe_one(*event, st.core_.deliver(*event));
    }
    return;
  }
  auto& delivered = st.delivered_;
  st.core_.deliver(events, delivered);
  size_t total = 0;
  for (size_t d : delivered) {
    total += d;
  }
  deliveries_counter().inc(total);
  if (auto observe = delivery_observer()) {
    for (size_t k = 0; k < delivered.size(); ++k) {
      const auto& event = *events[k];
      observe(event.guild_id, event.guild_order, delivered[k]);
    }
  }
}

caf::behavior partition_behavior(partition_actor* self, uint64_t guild_id, caf::actor relay,
                                 uint32_t recent_events_max, uint32_t recent_bytes_max) {
  self->state.core_ =
      partition_core{caf::make_counted<view_snapshot>(0, 0), encoding::guild_delete_tail(guild_id)};
  self->state.relay_ = std::move(relay);
  self->state.recent_ = recent_events{recent_events_max, recent_bytes_max};
  self->state.unavailable_tail_ = encoding::guild_unavailable_tail(guild_id);
  return {
      [self](const dispatch_event_ptr& event) {
        handled().inc();
        auto& st = self->state;
        if (!st.core_.take(*event)) {
          duplicates_counter().inc();
          return;
        }
        if (st.migrants_.has_waiting()) {
          st.migrants_.before_event(st.core_, event->guild_order);
        }
        observe_one(*event, st.core_.deliver(*event));
        events_counter().inc();
        st.recent_.push(event);
      },
      [self](const dispatch_batch_ptr& batch) {
        handled().inc();
        auto& st = self->state;
        if (size_t dropped = st.core_.take_batch(batch->events, st.fresh_)) {
          duplicates_counter().inc(dropped);  // a replay overlapping what the partition had
          deliver_batch(self, st.fresh_);
          st.fresh_.clear();
        } else {
          deliver_batch(self, batch->events);
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
        // Events before a fresh feed may be missing: only its position counts.
        st.recent_.reset(reset.at.order);
      },
      [self](cursor_atom) {
        handled().inc();
        auto c = self->state.core_.cursor();
        return caf::make_message(c.epoch, c.order);
      },
      [self](const add_subscriber& sub) {
        handled().inc();
        auto& st = self->state;
        if (!st.migrants_.admit(st.core_, st.recent_, sub, st.unavailable_tail_)) {
          st.core_.add(sub.output, sub.view_class, sub.guild_create_tail);
        }
      },
      [self](remove_session_atom, uint64_t session_id) {
        handled().inc();
        self->state.core_.remove(session_id);
        self->state.migrants_.forget(session_id);
      },
      [self](migrant_atom, uint64_t session_id, uint64_t cursor) {
        handled().inc();
        self->state.migrants_.expect(session_id, cursor);
      },
      [self](migrate_out_atom, uint64_t session_id) {
        handled().inc();
        auto& st = self->state;
        bool subscribed = st.core_.remove(session_id);
        st.migrants_.forget(session_id);
        return caf::make_message(subscribed, st.recent_.position().value_or(unknown_cursor));
      },
      [self](remove_user_atom, uint64_t user_id) {
        handled().inc();
        self->state.core_.remove_user(user_id);
      },
  };
}

}  // namespace

caf::actor spawn_relay_partition(caf::actor_system& sys, uint64_t guild_id, caf::actor relay,
                                 uint32_t recent_events, uint32_t recent_bytes) {
  return sys.spawn(partition_behavior, guild_id, std::move(relay), recent_events, recent_bytes);
}

}  // namespace herald::relay
