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

metrics::counter& handled() {
  static auto& c = metrics::messages_handled("relay_partition");
  return c;
}

struct partition_state {
  // Starts with an empty view (no class sees anything) until the guild's
  // view_reset arrives, which precedes any subscriber.
  partition_core core_{caf::make_counted<view_snapshot>(0, 0)};
  std::vector<size_t> delivered_;  // per event of the batch being delivered
  static inline const char* name = "relay_partition";
};

caf::behavior partition_behavior(caf::stateful_actor<partition_state>* self, uint64_t guild_id) {
  self->state.core_ =
      partition_core{caf::make_counted<view_snapshot>(0, 0), encoding::guild_delete_tail(guild_id)};
  return {
      [self](const dispatch_event_ptr& event) {
        handled().inc();
        auto delivered = self->state.core_.deliver(*event);
        deliveries_counter().inc(delivered);
        events_counter().inc();
        if (auto observe = delivery_observer()) {
          observe(event->guild_id, event->guild_order, delivered);
        }
      },
      [self](const dispatch_batch_ptr& batch) {
        handled().inc();
        auto& delivered = self->state.delivered_;
        self->state.core_.deliver(batch->events, delivered);
        size_t total = 0;
        for (size_t d : delivered) {
          total += d;
        }
        deliveries_counter().inc(total);
        events_counter().inc(batch->events.size());
        if (auto observe = delivery_observer()) {
          for (size_t k = 0; k < delivered.size(); ++k) {
            const auto& event = *batch->events[k];
            observe(event.guild_id, event.guild_order, delivered[k]);
          }
        }
      },
      [self](const view_update_ptr& update) {
        handled().inc();
        deliveries_counter().inc(self->state.core_.apply(*update));
      },
      [self](const view_reset& reset) {
        handled().inc();
        self->state.core_.reset(reset.view, *reset.class_of_user);
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

caf::actor spawn_relay_partition(caf::actor_system& sys, uint64_t guild_id) {
  return sys.spawn(partition_behavior, guild_id);
}

}  // namespace herald::relay
