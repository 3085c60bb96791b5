// SPDX-License-Identifier: Apache-2.0
#include "actors/relay/uplink.hpp"

#include <vector>

#include <spdlog/spdlog.h>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/relay/link_stream.hpp"
#include "actors/relay/relay_metrics.hpp"
#include "actors/relay/relay_wire.hpp"
#include "runtime/metrics/actor_metrics.hpp"

namespace herald::relay {

namespace {

struct uplink_state {
  caf::actor downlink;
  link_queue queue;
  /// The exporter of each waiting section, in the queue's order: acknowledged when it leaves.
  std::vector<caf::actor> exporters;
  static inline const char* name = "relay_uplink";
};

using uplink_actor = caf::stateful_actor<uplink_state>;

metrics::counter& handled() {
  static auto& c = metrics::messages_handled("relay_uplink");
  return c;
}

void pump(uplink_actor* self) {
  auto& st = self->state;
  auto lb = st.queue.next();
  if (!lb) {
    return;
  }
  count_link_batch(*lb, true);
  // The acknowledgements name each section's batch; collect them before the link batch moves.
  std::vector<relay_wire::batch_ack> acks;
  acks.reserve(lb->sections.size());
  for (const auto& s : lb->sections) {
    acks.push_back(relay_wire::batch_ack{s.items.guild_id, s.items.seq});
  }
  self->send(st.downlink, std::move(*lb));
  for (size_t i = 0; i < acks.size(); ++i) {
    self->send(st.exporters[i], acks[i]);
  }
  st.exporters.erase(st.exporters.begin(),
                     st.exporters.begin() + static_cast<std::ptrdiff_t>(acks.size()));
}

}  // namespace

caf::actor spawn_uplink(const dispatch::services_ptr& svc, caf::actor downlink) {
  // Only the router's handle: the uplink keeps no hold on the services.
  return svc->system.spawn(
      [router = svc->router, downlink = std::move(downlink)](uplink_actor* self) -> caf::behavior {
        self->state.downlink = downlink;
        self->monitor(downlink);
        if (router) {
          self->monitor(router);
        }
        // Either way there is nobody to send to (or the node stops): end, and the exporters with
        // it.
        self->set_down_handler([self](const caf::down_msg&) { self->quit(); });
        return {
            [self](relay_wire::batch& b) {
              handled().inc();
              auto exporter = caf::actor_cast<caf::actor>(self->current_sender());
              if (!exporter) {
                return;
              }
              self->state.queue.add(exporter.id(), std::move(b));
              self->state.exporters.push_back(std::move(exporter));
              pump(self);
            },
            [self](relay_wire::link_ack& ack) {
              handled().inc();
              if (!self->state.queue.ack(ack.seq)) {
                relay_refused_counter().inc();
                spdlog::warn("relay uplink → {}: unexpected link ack {}",
                             caf::to_string(self->state.downlink.node()), ack.seq);
                return;
              }
              pump(self);
            },
        };
      });
}

}  // namespace herald::relay
