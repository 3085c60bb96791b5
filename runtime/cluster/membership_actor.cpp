// SPDX-License-Identifier: Apache-2.0
#include "runtime/cluster/membership_actor.hpp"

#include <map>
#include <set>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "runtime/cluster/link_rtt.hpp"
#include "runtime/cluster/member_table.hpp"
#include "runtime/cluster/peer_dial.hpp"
#include "runtime/cluster/wire.hpp"
#include "runtime/log/log.hpp"
#include "runtime/metrics/metrics.hpp"

namespace herald::cluster {

namespace {

using tick_atom = caf::atom_constant<caf::atom("cl_tick")>;
struct peer_link {
  uint16_t node_id = 0;
  uint64_t instance = 0;
  bool known = false;  ///< node_id/instance are set (after its join or our accepted join)
  std::string dialed;  ///< the address we dialled to get it, if we did
};

struct membership_state {
  std::unique_ptr<member_table> table;
  membership_options opts;
  /// Peer membership actors by address, what we know of each.
  std::map<caf::actor_addr, peer_link> links;
  std::map<caf::actor_addr, caf::actor> handles;
  /// Addresses being dialled.
  std::set<std::string> dialing;
  /// Addresses learned from join replies, dialled until a member with that address is linked.
  std::set<std::string> learned;
  /// Seeds that did not answer the first round yet.
  std::set<std::string> seeds_pending;
  bool first_round_reported = false;
  link_rtt rtt;
};

using self_ptr = caf::stateful_actor<membership_state>*;

std::shared_ptr<const ring> build_ring(const member_table& t) {
  return std::make_shared<const ring>(t.ring_nodes(), t.config().vnodes, t.generation());
}

/// Hands the view the membership actor of every up peer whose link is its current instance.
void publish_peers(self_ptr self) {
  auto& st = self->state;
  std::map<uint16_t, caf::actor> peers;
  for (const auto& [addr, l] : st.links) {
    const auto* m = l.known ? st.table->find(l.node_id) : nullptr;
    if (m != nullptr && m->up && !m->self && m->info.instance == l.instance) {
      peers[l.node_id] = st.handles[addr];
    }
  }
  st.opts.view->set_peers(std::move(peers));
}

void publish(self_ptr self) {
  publish_peers(self);
  auto& t = *self->state.table;
  std::vector<node_row> rows;
  for (const auto& m : t.members()) {
    node_row r;
    r.id = m.info.node_id;
    r.name = m.info.name;
    r.address = m.info.address;
    r.roles = m.info.roles;
    r.incarnation = m.info.incarnation;
    r.up = m.up;
    r.self = m.self;
    r.draining = m.draining;
    r.since_unix_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(m.since.time_since_epoch()).count();
    rows.push_back(std::move(r));
  }
  self->state.opts.view->publish(std::move(rows), build_ring(t));
}

void report_first_round(self_ptr self, std::optional<std::string> refusal) {
  auto& st = self->state;
  if (st.first_round_reported) {
    return;
  }
  if (!refusal && !st.seeds_pending.empty()) {
    return;
  }
  st.first_round_reported = true;
  if (st.opts.first_round_done) {
    st.opts.first_round_done(std::move(refusal));
  }
}

void seed_answered(self_ptr self, const std::string& address) {
  if (self->state.seeds_pending.erase(address) > 0) {
    report_first_round(self, std::nullopt);
  }
}

/// Remembers `h` as the actor of (node_id, instance), monitoring it once.
void link(self_ptr self, const caf::actor& h, uint16_t node_id, uint64_t instance) {
  auto& st = self->state;
  auto addr = h.address();
  if (st.handles.count(addr) == 0) {
    st.handles.emplace(addr, h);
    self->monitor(h);
  }
  auto& l = st.links[addr];
  l.node_id = node_id;
  l.instance = instance;
  l.known = true;
  publish_peers(self);
}

bool linked_to_address(const membership_state& st, const std::string& address) {
  for (const auto& [addr, l] : st.links) {
    if (!l.known) {
      if (l.dialed == address) {
        return true;  // dialled, join in flight
      }
      continue;
    }
    const auto* m = st.table->find(l.node_id);
    if (m != nullptr && m->info.instance == l.instance && m->info.address == address) {
      return true;
    }
  }
  return false;
}

void dial(self_ptr self, const std::string& address) {
  auto& st = self->state;
  bool dialled = dial_peer(
      self, st.opts.middleman, address, st.opts.config.failure_timeout,
      [self, address](caf::actor h) {
        auto& st = self->state;
        st.dialing.erase(address);
        if (!h) {
          log::get("cluster")->warn("cluster: {} publishes no membership actor", address);
          seed_answered(self, address);
          return;
        }
        if (st.handles.count(h.address()) == 0) {
          st.handles.emplace(h.address(), h);
          self->monitor(h);
        }
        auto& l = st.links[h.address()];
        l.dialed = address;
        self->send(h, st.table->make_join_request());
      },
      [self, address](std::string why) {
        self->state.dialing.erase(address);
        log::get("cluster")->debug("cluster: cannot reach {}: {}", address, why);
        seed_answered(self, address);
      });
  if (!dialled) {
    st.learned.erase(address);
    seed_answered(self, address);
    return;
  }
  st.dialing.insert(address);
}

void dial_missing(self_ptr self) {
  auto& st = self->state;
  std::set<std::string> wanted{st.opts.config.seeds.begin(), st.opts.config.seeds.end()};
  wanted.insert(st.learned.begin(), st.learned.end());
  for (const auto& m : st.table->members()) {
    if (!m.self) {
      wanted.insert(m.info.address);
    }
  }
  wanted.erase(st.table->self().address);
  for (const auto& address : wanted) {
    if (st.dialing.count(address) == 0 && !linked_to_address(st, address)) {
      dial(self, address);
    }
  }
}

/// Pings `peer`; its echo is one sample of herald_cluster_link_rtt_seconds (link_rtt.hpp).
void ping(self_ptr self, const caf::actor& peer, uint16_t node_id) {
  ping_peer(self, peer, self->state.opts.config.failure_timeout, [self, node_id](uint64_t sent_ns) {
    const auto* m = self->state.table->find(node_id);
    self->state.rtt.observe(node_id, m != nullptr ? m->info.name : std::to_string(node_id),
                            sent_ns);
  });
}

void send_heartbeats(self_ptr self) {
  auto& st = self->state;
  const auto& me = st.table->self();
  wire::heartbeat hb{me.node_id, me.instance, me.incarnation};
  // Repeated while draining: a peer that linked since (or missed one) learns it too.
  const bool draining = st.table->draining();
  for (const auto& [addr, l] : st.links) {
    if (l.known) {
      self->send(st.handles[addr], hb);
      if (draining) {
        self->send(st.handles[addr], wire::drain_notice{me.node_id, me.instance, true});
      }
      ping(self, st.handles[addr], l.node_id);
    }
  }
}

void send_declared_down(self_ptr self, const caf::actor& to, uint16_t node_id) {
  const auto* m = self->state.table->find(node_id);
  if (m != nullptr) {
    self->send(to, wire::declared_down{node_id, m->info.instance, m->info.incarnation});
  }
}

caf::behavior membership(self_ptr self, membership_options opts) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.table =
      std::make_unique<member_table>(st.opts.config, st.opts.instance, steady::now(), wall::now());
  for (const auto& s : st.opts.config.seeds) {
    if (s != st.opts.config.listen) {
      st.seeds_pending.insert(s);
    }
  }
  publish(self);
  report_first_round(self, std::nullopt);  // no other seed: done at once
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    auto it = st.links.find(dm.source);
    if (it != st.links.end()) {
      auto l = it->second;
      st.links.erase(it);
      if (l.known && st.table->on_connection_lost(l.node_id, l.instance, wall::now())) {
        const auto* m = st.table->find(l.node_id);
        log::get("cluster")->warn("cluster: node {} (id {}) is down: connection lost",
                                  m != nullptr ? m->info.name : "?", l.node_id);
        publish(self);
      }
    }
    st.handles.erase(dm.source);
    publish_peers(self);
  });
  self->send(self, tick_atom::value);
  return {
      [self](tick_atom) {
        auto& st = self->state;
        auto r = st.table->tick(steady::now(), wall::now());
        auto lg = log::get("cluster");
        if (r.paused) {
          lg->warn("cluster: this process was frozen for {} ms; peers get a fresh failure timeout",
                   r.paused->count());
        }
        for (auto id : r.declared_down) {
          const auto* m = st.table->find(id);
          lg->warn("cluster: node {} (id {}) is down: no heartbeat for {} ms",
                   m != nullptr ? m->info.name : "?", id, st.opts.config.failure_timeout.count());
        }
        if (!r.declared_down.empty()) {
          publish(self);
        }
        send_heartbeats(self);
        dial_missing(self);
        self->delayed_send(self, st.opts.config.heartbeat_interval, tick_atom::value);
      },
      [self](wire::join_request& req) {
        auto& st = self->state;
        auto h = caf::actor_cast<caf::actor>(self->current_sender());
        if (!h) {
          return;
        }
        const auto& me = st.table->self();
        if (req.from.instance == me.instance) {
          // We dialled ourselves (a seed naming this node by another address).
          self->send(h, wire::join_reply{false, "", me, {}});
          return;
        }
        auto v = st.table->on_join(req, steady::now(), wall::now());
        if (!v.accepted) {
          log::get("cluster")->error("cluster: refused a join: {}", v.refusal);
          self->send(h, wire::join_reply{false, v.refusal, st.table->self(), {}});
          return;
        }
        link(self, h, req.from.node_id, req.from.instance);
        self->send(h, wire::join_reply{true, "", st.table->self(), st.table->up_peer_addresses()});
        if (v.send_declared_down) {
          send_declared_down(self, h, req.from.node_id);
        }
        if (v.changed) {
          log::get("cluster")->info("cluster: node {} (id {}, {}) is up, incarnation {}",
                                    req.from.name, req.from.node_id, req.from.address,
                                    req.from.incarnation);
          publish(self);
        }
      },
      [self](wire::join_reply& rep) {
        auto& st = self->state;
        auto h = caf::actor_cast<caf::actor>(self->current_sender());
        std::string dialed;
        if (auto it = st.links.find(h.address()); it != st.links.end()) {
          dialed = it->second.dialed;
        }
        if (rep.from.instance == st.table->self().instance) {
          st.links.erase(h.address());
          st.learned.erase(dialed);
          seed_answered(self, dialed);
          return;
        }
        if (!rep.accepted) {
          log::get("cluster")->error("cluster: join refused by node {} ({}): {}", rep.from.name,
                                     rep.from.address, rep.refusal);
          report_first_round(self, rep.refusal);
          seed_answered(self, dialed);
          return;
        }
        auto v = st.table->on_accepted(rep.from, steady::now(), wall::now());
        link(self, h, rep.from.node_id, rep.from.instance);
        st.learned.erase(dialed);
        for (const auto& address : rep.peers) {
          if (address != st.table->self().address) {
            st.learned.insert(address);
          }
        }
        if (v.send_declared_down) {
          send_declared_down(self, h, rep.from.node_id);
        }
        if (v.changed) {
          log::get("cluster")->info("cluster: joined node {} (id {}, {}), incarnation {}",
                                    rep.from.name, rep.from.node_id, rep.from.address,
                                    rep.from.incarnation);
          publish(self);
        }
        seed_answered(self, dialed);
      },
      [self](wire::heartbeat& hb) {
        auto& st = self->state;
        bool changed = false;
        auto result = st.table->on_heartbeat(hb, steady::now(), wall::now(), changed);
        auto h = caf::actor_cast<caf::actor>(self->current_sender());
        if (result == member_table::heard::stale && h) {
          send_declared_down(self, h, hb.node_id);
        }
        if (changed) {
          log::get("cluster")->info("cluster: node id {} is up again, incarnation {}", hb.node_id,
                                    hb.incarnation);
          publish(self);
        }
      },
      [](ping_atom, uint64_t sent_ns) { return sent_ns; },
      [self](lookup_service_atom, caf::atom_value name) {
        return lookup_service(self->home_system(), name);
      },
      [self](drain_atom) {
        auto& st = self->state;
        if (st.table->set_self_draining()) {
          log::get("cluster")->warn(
              "cluster: this node is draining: it leaves the guild ring (generation {}) and tells "
              "its peers",
              st.table->generation());
          publish(self);
          send_heartbeats(self);
        }
      },
      [self](wire::drain_notice& n) {
        auto& st = self->state;
        if (st.table->on_drain_notice(n)) {
          const auto* m = st.table->find(n.node_id);
          log::get("cluster")->info("cluster: node {} (id {}) is {}: ring generation {}",
                                    m != nullptr ? m->info.name : "?", n.node_id,
                                    n.draining ? "draining" : "no longer draining",
                                    st.table->generation());
          publish(self);
        }
      },
      [self](wire::declared_down& d) {
        auto& st = self->state;
        if (st.table->on_declared_down(d)) {
          log::get("cluster")->warn(
              "cluster: a peer declared this node down; rejoining as incarnation {}",
              st.table->self().incarnation);
          publish(self);
          send_heartbeats(self);
        }
      },
  };
}

}  // namespace

caf::actor spawn_membership(caf::actor_system& sys, membership_options opts) {
  return sys.spawn(membership, std::move(opts));
}

}  // namespace herald::cluster
