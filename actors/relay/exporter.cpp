// SPDX-License-Identifier: Apache-2.0
#include "actors/relay/exporter.hpp"

#include <optional>
#include <vector>

#include <spdlog/spdlog.h>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/relay/relay_messages.hpp"
#include "actors/relay/relay_metrics.hpp"
#include "actors/relay/relay_stream.hpp"
#include "actors/services/dispatch_error.hpp"
#include "runtime/metrics/actor_metrics.hpp"
#include "runtime/registry/ensure_started.hpp"

namespace herald::relay {

namespace {

struct exporter_state {
  dispatch::services_ptr svc;
  uint64_t guild_id = 0;
  uint16_t node_id = 0;
  caf::actor importer;
  caf::actor uplink;  // this node's link to the importer's node (uplink.hpp)
  caf::actor guild;   // the incarnation registered with; invalid while (re)starting it
  std::optional<export_queue> queue;
  uint64_t members = 0;
  bool registered = false;
  // The position of the last event handed to the stream (or the importer's cursor from its
  // attach request): a registration with the guild's next incarnation replays its tail after
  // it, so the importer misses nothing the dead incarnation committed but had not sent here.
  std::optional<stream_position> cursor;
  std::vector<caf::response_promise> attach_waiting;
  ~exporter_state() { remote_relays_gauge().add(-1); }
  static inline const char* name = "relay_exporter";
};

using exporter_actor = caf::stateful_actor<exporter_state>;

metrics::counter& handled() {
  static auto& c = metrics::messages_handled("relay_exporter");
  return c;
}

void advance(exporter_state& st, const dispatch_event& event) {
  if (event.position().known() && (!st.cursor || *st.cursor < event.position())) {
    st.cursor = event.position();
  }
}

void pump(exporter_actor* self) {
  auto& st = self->state;
  if (auto b = st.queue->next()) {
    self->send(st.uplink, std::move(*b));
  }
}

void fail_attach(exporter_actor* self, const caf::error& err) {
  for (auto& p : self->state.attach_waiting) {
    p.deliver(err);
  }
  self->state.attach_waiting.clear();
  self->quit(err);
}

// Starts (or finds) the guild, reads its size once, and registers: the guild answers with a
// view_reset (and everything after it) in guild order.
void connect_guild(exporter_actor* self) {
  auto& svc = *self->state.svc;
  // Only the owner orders a guild: an exporter never starts one on a node that lost it.
  auto ring = svc.config.cluster ? svc.config.cluster->current_ring() : nullptr;
  auto owner = ring ? ring->owner(self->state.guild_id) : std::nullopt;
  if (!owner || *owner != svc.config.node_id) {
    fail_attach(self, dispatch::make_error(dispatch::dispatch_errc::unavailable,
                                           "guild " + std::to_string(self->state.guild_id) +
                                               " is moving: this node does not own it"));
    return;
  }
  registry::ensure_started(
      self, svc.guilds, svc.guild_supervisor, svc.guild_spec, self->state.guild_id,
      svc.config.request_timeout, [self](caf::expected<caf::actor> guild) {
        if (!guild) {
          fail_attach(self, dispatch::from_start_error(std::move(guild.error())));
          return;
        }
        auto g = *guild;
        self->request(g, self->state.svc->config.request_timeout, members_atom::value)
            .then(
                [self, g](uint64_t members) {
                  auto& st = self->state;
                  st.members = members;
                  st.guild = g;
                  self->monitor(g);
                  caf::actor me = caf::actor_cast<caf::actor>(self);
                  if (st.cursor) {
                    self->send(g, register_atom::value, me, std::vector<caf::actor>{me},
                               st.cursor->epoch, st.cursor->order);
                  } else {
                    self->send(g, register_atom::value, me, std::vector<caf::actor>{me});
                  }
                  st.registered = true;
                  for (auto& p : st.attach_waiting) {
                    p.deliver(relay_wire::attach_reply{members, me});
                  }
                  st.attach_waiting.clear();
                },
                [self](caf::error& err) { fail_attach(self, err); });
      });
}

caf::behavior exporter_behavior(exporter_actor* self) {
  self->set_down_handler([self](const caf::down_msg& down) {
    auto& st = self->state;
    if (down.source == st.importer.address() || down.source == st.uplink.address() ||
        down.source == st.svc->router.address()) {
      // Nobody to feed (the relay ended, or the link to its node did), or the node is stopping
      // (stop_services ends the router first): the guild drops this relay when it sees us go;
      // the importer attaches again elsewhere.
      self->quit();
      return;
    }
    if (down.source == st.guild.address()) {
      st.guild = caf::actor{};
      connect_guild(self);  // the next incarnation; its view_reset resynchronises the stream
    }
  });
  return {
      [self](attach_atom) -> caf::result<relay_wire::attach_reply> {
        handled().inc();
        auto& st = self->state;
        if (st.registered) {
          return relay_wire::attach_reply{st.members, caf::actor_cast<caf::actor>(self)};
        }
        auto p = self->make_response_promise<relay_wire::attach_reply>();
        st.attach_waiting.push_back(p);
        return p;
      },
      [self](relay_wire::subscribe_request& req) {
        handled().inc();
        auto& st = self->state;
        if (!st.guild) {
          // Between guild incarnations: refuse (retryable); the session subscribes again.
          relay_wire::subscriber out;
          out.session_id = req.session_id;
          out.errc = static_cast<uint8_t>(dispatch::dispatch_errc::unavailable);
          out.error = "guild restarting";
          st.queue->add(std::move(out));
          pump(self);
          return;
        }
        caf::actor me = caf::actor_cast<caf::actor>(self);
        self->send(st.guild, remote_subscribe_atom::value, req.session_id, req.user_id, me);
      },
      [self](relay_wire::batch_ack& ack) {
        handled().inc();
        if (ack.guild_id != self->state.guild_id || !self->state.queue->ack(ack.seq)) {
          relay_refused_counter().inc();
          spdlog::warn("relay exporter {} → node {}: unexpected batch ack {}", self->state.guild_id,
                       self->state.node_id, ack.seq);
          return;
        }
        pump(self);
      },
      // -- from the guild, in guild order -------------------------------------------------
      [self](const dispatch_event_ptr& event) {
        handled().inc();
        self->state.queue->add(*event);
        advance(self->state, *event);
        pump(self);
      },
      [self](const dispatch_batch_ptr& batch) {
        handled().inc();
        for (const auto& e : batch->events) {
          self->state.queue->add(*e);
          advance(self->state, *e);
        }
        pump(self);
      },
      [self](const view_update_ptr& update) {
        handled().inc();
        self->state.queue->add(*update);
        pump(self);
      },
      [self](const view_reset& reset) {
        handled().inc();
        self->state.queue->add(reset);
        pump(self);
      },
      [self](remote_subscriber& sub) {
        handled().inc();
        relay_wire::subscriber out;
        out.session_id = sub.session_id;
        out.view_class = sub.view_class;
        out.guild_create_tail = std::move(sub.guild_create_tail);
        if (sub.error) {
          out.errc = sub.error.category() == dispatch::dispatch_category()
                         ? sub.error.code()
                         : static_cast<uint8_t>(dispatch::dispatch_errc::unavailable);
          out.error = dispatch::describe(sub.error);
        }
        self->state.queue->add(std::move(out));
        pump(self);
      },
      [self](remove_user_atom, uint64_t user) {
        handled().inc();
        self->state.queue->add(relay_wire::notice{user, false});
        pump(self);
      },
      [self](member_joined_atom, uint64_t user) {
        handled().inc();
        self->state.queue->add(relay_wire::notice{user, true});
        pump(self);
      },
      [self](partitions_atom) {
        handled().inc();
        return std::vector<caf::actor>{caf::actor_cast<caf::actor>(self)};
      },
      [self](rebind_atom) {
        handled().inc();
        auto c = self->state.cursor.value_or(stream_position{});
        return caf::make_message(std::vector<caf::actor>{caf::actor_cast<caf::actor>(self)},
                                 c.epoch, c.order);
      },
  };
}

}  // namespace

caf::actor spawn_exporter(const dispatch::services_ptr& svc, uint64_t guild_id, uint16_t node_id,
                          caf::actor importer, caf::actor uplink,
                          std::optional<stream_position> cursor) {
  return svc->system.spawn([svc, guild_id, node_id, importer = std::move(importer),
                            uplink = std::move(uplink),
                            cursor](exporter_actor* self) -> caf::behavior {
    auto& st = self->state;
    st.cursor = cursor;
    st.svc = svc;
    st.guild_id = guild_id;
    st.node_id = node_id;
    st.importer = importer;
    st.uplink = uplink;
    st.queue.emplace(guild_id);
    remote_relays_gauge().add(1);
    self->monitor(importer);
    self->monitor(uplink);
    // Exporters are not supervised: they end with the router that spawned them, so that a
    // stopping node does not wait for its peers to drop their relays.
    if (svc->router) {
      self->monitor(svc->router);
    }
    svc->relay_groups.join(guild_id, caf::actor_cast<caf::actor>(self));
    connect_guild(self);
    return exporter_behavior(self);
  });
}

}  // namespace herald::relay
