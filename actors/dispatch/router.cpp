// SPDX-License-Identifier: Apache-2.0
#include "actors/dispatch/router.hpp"

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include <caf/actor_cast.hpp>
#include <caf/actor_registry.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/dispatch/route_metrics.hpp"
#include "actors/dispatch/route_publish.hpp"
#include "actors/dispatch/route_wire.hpp"
#include "actors/dispatch/routed_calls.hpp"
#include "actors/guild/guild_actor.hpp"
#include "actors/relay/exporter.hpp"
#include "actors/relay/relay_actor.hpp"
#include "actors/relay/relay_metrics.hpp"
#include "actors/relay/relay_wire.hpp"
#include "actors/relay/uplink.hpp"
#include "actors/services/dispatch_error.hpp"
#include "actors/session/migrate_wire.hpp"
#include "actors/session/session_actor.hpp"
#include "runtime/cluster/cluster_view.hpp"
#include "runtime/cluster/ring.hpp"
#include "runtime/log/log.hpp"

namespace herald::dispatch {

metrics::counter& routed_publishes(bool remote) {
  static const char* help =
      "Publishes by where their guild's owner was: this node (local) or another node of the "
      "cluster, reached through the router (remote)";
  static auto& local = metrics::registry::global().get_counter("herald_routed_publishes_total",
                                                               help, {{"where", "local"}});
  static auto& routed = metrics::registry::global().get_counter("herald_routed_publishes_total",
                                                                help, {{"where", "remote"}});
  return remote ? routed : local;
}

namespace {

/// A request waiting for its owner's router to be found: `send` forwards it, `fail` refuses it.
struct queued {
  std::function<void(const caf::actor& remote)> send;
  std::function<void(caf::error)> fail;
};

/// The route to one owner node. `remote` is its router once found; while a lookup runs,
/// requests queue in arrival order so the lookup cannot reorder them.
struct peer_route {
  caf::actor remote;
  bool resolving = false;
  std::deque<queued> waiting;
};

struct router_state {
  services_ptr svc;
  std::map<uint16_t, peer_route> peers;
  std::shared_ptr<const cluster::ring> ring;  // the ring the relays were last told of
  /// The uplink (relay/uplink.hpp) to each peer node's downlink, by that downlink: one link per
  /// (this node, peer incarnation) carries every exporter's batches to that node.
  std::map<caf::actor_addr, caf::actor> uplinks;
  /// Publishes and status requests sent to a peer's router and not yet answered.
  routed_calls calls;
  static inline const char* name = "router";
};

/// (ring_tick_atom): the router's own timer; compares this node's ring with the last one seen.
using ring_tick_atom = caf::atom_constant<caf::atom("r_ring")>;

/// How often the router looks for a new ring; relays move their feeds within this of a change.
constexpr std::chrono::seconds ring_poll_interval{1};

using router_ptr = caf::stateful_actor<router_state>*;

/// A failure of the remote path (timeout, owner down, no route) as the retryable dispatch error;
/// errors of the owner's dispatch layer (a refused event) pass through unchanged.
caf::error as_route_error(caf::error err, uint16_t owner) {
  if (err.category() == dispatch_category() || err.category() == caf::atom("command")) {
    return err;
  }
  return make_error(dispatch_errc::unavailable, "guild owner (node " + std::to_string(owner) +
                                                    ") unreachable: " + describe(err));
}

void forget(router_ptr self, uint16_t owner, const caf::actor& remote) {
  auto it = self->state.peers.find(owner);
  if (it != self->state.peers.end() && it->second.remote == remote) {
    it->second.remote = caf::actor{};
  }
}

void flush(router_ptr self, uint16_t owner, const caf::error& err) {
  auto& route = self->state.peers[owner];
  route.resolving = false;
  auto waiting = std::move(route.waiting);
  route.waiting.clear();
  for (auto& q : waiting) {
    if (err) {
      q.fail(err);
    } else {
      q.send(route.remote);
    }
  }
}

/// Finds owner's router through its membership actor (cluster_view::peer), then sends what
/// queued meanwhile, in order.
void resolve(router_ptr self, uint16_t owner) {
  auto& route = self->state.peers[owner];
  if (route.resolving) {
    return;
  }
  auto peer = self->state.svc->config.cluster->peer(owner);
  if (!peer) {
    flush(self, owner,
          make_error(dispatch_errc::unavailable,
                     "guild owner (node " + std::to_string(owner) + ") is not connected"));
    return;
  }
  route.resolving = true;
  self->request(peer, self->state.svc->config.request_timeout, cluster::lookup_service_atom::value,
                router_name)
      .then(
          [self, owner](caf::strong_actor_ptr& ptr) {
            if (!ptr) {
              flush(self, owner,
                    make_error(dispatch_errc::unavailable,
                               "guild owner (node " + std::to_string(owner) + ") has no router"));
              return;
            }
            auto remote = caf::actor_cast<caf::actor>(ptr);
            self->monitor(remote);
            self->state.peers[owner].remote = remote;
            flush(self, owner, caf::error{});
          },
          [self, owner](caf::error& err) { flush(self, owner, as_route_error(err, owner)); });
}

/// Runs `q` on owner's router: at once when known, else after the lookup.
void via(router_ptr self, uint16_t owner, queued q) {
  auto& route = self->state.peers[owner];
  if (route.remote && !route.resolving) {
    q.send(route.remote);
    return;
  }
  route.waiting.push_back(std::move(q));
  resolve(self, owner);
}

/// The members this node's view has up (draining ones included: they still answer).
std::set<uint16_t> up_members(const router_state& st) {
  std::set<uint16_t> up;
  for (const auto& row : st.svc->config.cluster->nodes()) {
    if (row.up) {
      up.insert(row.id);
    }
  }
  return up;
}

/// Membership declared a node down (or the view changed otherwise): every call and every queued
/// request waiting on a node that is not up is answered now with the retryable unavailable error,
/// not when request_timeout runs out, and its router handle is dropped (looked up again when
/// the node is back).
void fail_calls_to_down(router_ptr self) {
  auto& st = self->state;
  auto up = up_members(st);
  auto error_for = [](uint16_t owner) {
    return make_error(dispatch_errc::unavailable,
                      "guild owner (node " + std::to_string(owner) + ") was declared down");
  };
  auto failed = st.calls.fail_not_up(up, error_for);
  for (auto& [owner, route] : st.peers) {
    if (up.count(owner) > 0) {
      continue;
    }
    route.remote = caf::actor{};
    if (route.resolving) {
      failed += route.waiting.size();
      flush(self, owner, error_for(owner));
    }
  }
  if (failed > 0) {
    routed_failed_on_down().inc(failed);
    log::get("cluster")->warn(
        "router: {} routed requests failed at once: their owner was declared down", failed);
  }
}

/// This node must own the guild to order it: a node asked by a peer whose ring is older or newer
/// than its own refuses (retryable) rather than running a second guild actor.
caf::error not_owner_here(const services& svc, uint64_t guild_id) {
  auto p = place(svc, guild_id);
  if (p.where == placement::kind::local) {
    return {};
  }
  return make_error(
      dispatch_errc::unavailable,
      "guild " + std::to_string(guild_id) + " is moving: this node does not own it in its view");
}

/// Tells every guild actor and relay of this node to check its guild's owner when the ring
/// changed since the last tick (guilds first: a guild moving away starts its handoff before the
/// relays it feeds ask the new owner for an exporter): one timer per node instead of one per relay
/// (10,000 small guilds with sessions here made 10,000 timer messages a second).
void watch_ring(router_ptr self) {
  auto& st = self->state;
  self->delayed_send(self, ring_poll_interval, ring_tick_atom::value);
  auto now = st.svc->config.cluster->current_ring();
  if (now != st.ring) {
    st.ring = std::move(now);
    st.svc->ring_watchers.dispatch(services::guild_watch_group, guild::ring_changed_atom::value);
    st.svc->ring_watchers.dispatch(services::ring_watch_group, relay::owner_check_atom::value);
  }
}

/// The new owner's side (guild::spawn_guild refuses the guild meanwhile): asks the guild's holder
/// `holder` to hand it off and records its answer, or the failure to get one, in
/// services::releases, after which the next start claims the guild.
void ask_handoff(router_ptr self, uint16_t holder, uint64_t guild_id, uint64_t epoch) {
  auto svc = self->state.svc;
  auto answered = [svc, guild_id, epoch] { svc->releases.answered(guild_id, epoch); };
  auto timeout = svc->config.request_timeout;
  via(self, holder,
      queued{[self, guild_id, epoch, timeout, answered](const caf::actor& remote) {
               self->request(remote, timeout, guild::handoff_atom::value, guild_id, epoch,
                             self->state.svc->config.node_id)
                   .then([answered](caf::ok_atom) { answered(); },
                         [answered](caf::error&) { answered(); });
             },
             [answered](caf::error) { answered(); }});
}

/// The holder's side: the node `asker`, which its ring makes the guild's owner, is about to
/// claim it. The guild here hands off and the answer goes once it is settled; a guild not running
/// here is answered at once. While this node's ring still names itself, the guild is held off
/// here (services::fences) until the ring changes, or a local producer would start it again and
/// take it back.
void hand_off_for(router_ptr self, caf::response_promise rp, uint64_t guild_id, uint16_t asker) {
  const auto& svc = self->state.svc;
  if (place(*svc, guild_id).where == placement::kind::local) {
    svc->fences.put(guild_id, {svc->config.cluster->current_ring()->generation(),
                               guild_fences::clock::now() + svc->config.fence_hold,
                               "handed off to node " + std::to_string(asker) + " at its request"});
  }
  auto guild = svc->guilds.lookup(guild_id);
  if (!guild) {
    rp.deliver(caf::ok_atom::value);
    return;
  }
  self->request(guild, svc->config.request_timeout, guild::handoff_atom::value, asker)
      .then([rp](caf::ok_atom) mutable { rp.deliver(caf::ok_atom::value); },
            [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
}

/// Whether this node drains (its own row in its view): a session here may then be taken over
/// while its connection is still attached (it was told op 7).
bool draining_here(const services& svc) {
  for (const auto& n : svc.config.cluster->nodes()) {
    if (n.self) {
      return n.draining;
    }
  }
  return false;
}

/// The asking node's side of a migration: the holder's router hands the session over.
void ask_migrate(router_ptr self, caf::response_promise rp, uint16_t holder,
                 session::migrate_wire::migrate_request req) {
  auto timeout = self->state.svc->config.request_timeout;
  via(self, holder,
      queued{[self, rp, holder, req, timeout](const caf::actor& remote) mutable {
               self->request(remote, timeout, req)
                   .then(
                       [rp](session::migrate_wire::migrate_reply& reply) mutable {
                         rp.deliver(std::move(reply));
                       },
                       [self, rp, holder, remote](caf::error& err) mutable {
                         if (err.category() != dispatch_category()) {
                           forget(self, holder, remote);
                         }
                         rp.deliver(as_route_error(std::move(err), holder));
                       });
             },
             [rp](caf::error err) mutable { rp.deliver(std::move(err)); }});
}

caf::behavior router(router_ptr self, services_ptr svc) {
  self->state.svc = std::move(svc);
  self->state.ring = self->state.svc->config.cluster->current_ring();
  self->delayed_send(self, ring_poll_interval, ring_tick_atom::value);
  self->state.svc->config.cluster->watch(self);
  self->set_down_handler([self](caf::down_msg& dm) {
    for (auto& [owner, route] : self->state.peers) {
      if (route.remote && route.remote.address() == dm.source) {
        route.remote = caf::actor{};
      }
    }
    auto& uplinks = self->state.uplinks;
    for (auto it = uplinks.begin(); it != uplinks.end();) {
      it = it->second.address() == dm.source ? uplinks.erase(it) : std::next(it);
    }
  });
  return {
      [self](route_publish_atom, uint16_t owner, proto::event& event) {
        auto rp = self->make_response_promise<guild::publish_ack>();
        route_wire::publish_request req;
        req.guild_id = event.guild_id();
        if (!event.SerializeToString(&req.event)) {
          rp.deliver(make_error(dispatch_errc::invalid_event, "event does not serialise"));
          return;
        }
        auto timeout = self->state.svc->config.request_timeout;
        via(self, owner,
            queued{
                [self, rp, req = std::move(req), owner, timeout](const caf::actor& remote) mutable {
                  count_route(route_direction::out, req);
                  auto call = self->state.calls.add(
                      owner, [rp](caf::error err) mutable { rp.deliver(std::move(err)); });
                  self->request(remote, timeout, std::move(req))
                      .then(
                          [self, rp, call](route_wire::publish_reply& reply) mutable {
                            if (!self->state.calls.settle(call)) {
                              return;  // failed already: the owner was declared down
                            }
                            count_route(route_direction::in, reply);
                            guild::publish_ack ack;
                            ack.guild_order = reply.guild_order;
                            ack.json = std::move(reply.payload);
                            rp.deliver(std::move(ack));
                          },
                          [self, rp, owner, remote, call](caf::error& err) mutable {
                            if (!self->state.calls.settle(call)) {
                              return;
                            }
                            if (err.category() != dispatch_category()) {
                              forget(self, owner, remote);
                            }
                            rp.deliver(as_route_error(std::move(err), owner));
                          });
                },
                [rp](caf::error err) mutable { rp.deliver(std::move(err)); }});
      },
      [self](route_status_atom, uint16_t owner, uint64_t guild_id) {
        auto rp = self->make_response_promise<route_wire::guild_status>();
        auto timeout = self->state.svc->config.request_timeout;
        via(self, owner,
            queued{[self, rp, owner, guild_id, timeout](const caf::actor& remote) mutable {
                     route_wire::guild_status_request req{guild_id};
                     count_route(route_direction::out, req);
                     auto call = self->state.calls.add(
                         owner, [rp](caf::error err) mutable { rp.deliver(std::move(err)); });
                     self->request(remote, timeout, req)
                         .then(
                             [self, rp, call](route_wire::guild_status& status) mutable {
                               if (!self->state.calls.settle(call)) {
                                 return;  // failed already: the owner was declared down
                               }
                               count_route(route_direction::in, status);
                               rp.deliver(std::move(status));
                             },
                             [self, rp, owner, remote, call](caf::error& err) mutable {
                               if (!self->state.calls.settle(call)) {
                                 return;
                               }
                               forget(self, owner, remote);
                               rp.deliver(as_route_error(std::move(err), owner));
                             });
                   },
                   [rp](caf::error err) mutable { rp.deliver(std::move(err)); }});
      },
      [self](route_wire::publish_request& req) {
        count_route(route_direction::in, req);
        auto rp = self->make_response_promise<route_wire::publish_reply>();
        const auto& svc = self->state.svc;
        if (auto err = not_owner_here(*svc, req.guild_id)) {
          rp.deliver(std::move(err));
          return;
        }
        proto::event event;
        if (!event.ParseFromString(req.event) || event.guild_id() != req.guild_id) {
          rp.deliver(make_error(dispatch_errc::invalid_event, "malformed routed event"));
          return;
        }
        publish_local(
            self, svc, std::move(event), svc->config.request_timeout,
            [rp](caf::expected<guild::publish_ack> ack) mutable {
              if (!ack) {
                rp.deliver(std::move(ack.error()));
                return;
              }
              route_wire::publish_reply reply{ack->guild_order, std::string{ack->payload()}};
              count_route(route_direction::out, reply);
              rp.deliver(std::move(reply));
            });
      },
      [self](relay::relay_wire::attach_request& req) {
        auto rp = self->make_response_promise<relay::relay_wire::attach_reply>();
        const auto& svc = self->state.svc;
        if (auto err = not_owner_here(*svc, req.guild_id)) {
          rp.deliver(std::move(err));
          return;
        }
        if (!req.importer || !req.downlink) {
          relay::relay_refused_counter().inc();
          rp.deliver(make_error(dispatch_errc::invalid_event,
                                "attach request without a relay or a downlink"));
          return;
        }
        auto& uplink = self->state.uplinks[req.downlink.address()];
        if (!uplink) {
          uplink = relay::spawn_uplink(svc, req.downlink);
          self->monitor(uplink);
        }
        std::optional<relay::stream_position> cursor;
        if (req.has_cursor) {  // v3: the relay's partitions were fed up to it by another owner
          cursor = relay::stream_position{req.cursor_epoch, req.cursor_order};
        }
        auto exporter =
            relay::spawn_exporter(svc, req.guild_id, req.node_id, req.importer, uplink, cursor);
        self->request(exporter, svc->config.request_timeout, relay::attach_atom::value)
            .then([rp](relay::relay_wire::attach_reply& reply) mutable { rp.deliver(reply); },
                  [rp, exporter](caf::error& err) mutable {
                    caf::anon_send_exit(exporter, caf::exit_reason::user_shutdown);
                    rp.deliver(std::move(err));
                  });
      },
      [self](ring_tick_atom) {
        watch_ring(self);
        fail_calls_to_down(self);  // also here: a view change whose message is still queued
      },
      [self](cluster::view_changed_atom) { fail_calls_to_down(self); },
      [self](guild::handoff_atom, uint16_t holder, uint64_t guild_id, uint64_t epoch) {
        ask_handoff(self, holder, guild_id, epoch);
      },
      [self](guild::handoff_atom, uint64_t guild_id, uint64_t, uint16_t asker) {
        auto rp = self->make_response_promise<caf::ok_atom>();
        hand_off_for(self, rp, guild_id, asker);
        return caf::delegated<caf::ok_atom>{};
      },
      [self](route_migrate_atom, uint16_t holder, session::migrate_wire::migrate_request& req) {
        auto rp = self->make_response_promise();
        ask_migrate(self, rp, holder, std::move(req));
        return rp;
      },
      [self](session::migrate_wire::migrate_request& req) -> caf::result<caf::message> {
        const auto& svc = self->state.svc;
        auto session = svc->sessions.lookup(req.session_id);
        if (!session) {
          return make_error(dispatch_errc::unavailable, "unknown session");
        }
        spdlog::info("session {:016x}: node {} asks for it (a Resume at seq {})", req.session_id,
                     req.asker, req.seq);
        return self->delegate(session, session::migrate_atom::value, req.user_id, req.seq,
                              draining_here(*svc));
      },
      [self](route_wire::guild_status_request& req) {
        count_route(route_direction::in, req);
        const auto& svc = self->state.svc;
        route_wire::guild_status out;
        out.guild_id = req.guild_id;
        out.alive = static_cast<bool>(svc->guilds.lookup(req.guild_id));
        count_route(route_direction::out, out);
        return out;
      },
  };
}

}  // namespace

static_assert(relay::relay_wire::export_service_name == router_name,
              "relays find the exporters' factory under the router's name");

caf::actor spawn_router(const services_ptr& svc) {
  register_route_metrics();
  relay::remote_relays_gauge();  // the series exists (0) on every clustered node
  auto r = svc->system.spawn(router, svc);
  svc->system.registry().put(router_name, r);
  return r;
}

}  // namespace herald::dispatch
