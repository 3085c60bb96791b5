// SPDX-License-Identifier: Apache-2.0
#include "actors/relay/downlink.hpp"

#include <spdlog/spdlog.h>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/relay/link_stream.hpp"
#include "actors/relay/relay_metrics.hpp"
#include "actors/relay/relay_wire.hpp"
#include "runtime/metrics/actor_metrics.hpp"

namespace herald::relay {

namespace {

struct downlink_state {
  dispatch::services_ptr svc;
  static inline const char* name = "relay_downlink";
};

using downlink_actor = caf::stateful_actor<downlink_state>;

metrics::counter& handled() {
  static auto& c = metrics::messages_handled("relay_downlink");
  return c;
}

void on_link_batch(downlink_actor* self, relay_wire::link_batch& lb) {
  auto sender = self->current_sender();
  if (!sender) {
    return;  // anonymous: nobody to acknowledge, no owner to name
  }
  auto owner = sender->node();
  count_link_batch(lb, false);
  auto& relays = self->state.svc->relays;
  split_link(
      lb,
      [&](relay_wire::link_section& s) {
        if (auto relay = relays.lookup(s.items.guild_id)) {
          self->send(relay, link_section_atom::value, owner, s.exporter_id, std::move(s.items));
        }
      },
      [&](relay_wire::link_section& s, const std::string& why) {
        relay_refused_counter().inc();
        spdlog::warn("relay downlink: refused a section of guild {} from {}: {}", s.items.guild_id,
                     caf::to_string(owner), why);
        if (auto relay = relays.lookup(s.items.guild_id)) {
          self->send(relay, link_refused_atom::value, owner, s.exporter_id);
        }
      });
  self->send(caf::actor_cast<caf::actor>(sender), relay_wire::link_ack{lb.seq});
}

}  // namespace

caf::actor spawn_downlink(const dispatch::services_ptr& svc) {
  return svc->system.spawn([svc](downlink_actor* self) -> caf::behavior {
    self->state.svc = svc;
    if (svc->router) {
      self->monitor(svc->router);
    }
    self->set_down_handler([self](const caf::down_msg&) {
      self->state.svc.reset();
      self->quit();
    });
    return {
        [self](relay_wire::link_batch& lb) {
          handled().inc();
          on_link_batch(self, lb);
        },
    };
  });
}

}  // namespace herald::relay
