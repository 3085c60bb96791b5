// SPDX-License-Identifier: Apache-2.0
#include "runtime/cluster/link_actor.hpp"

#include <map>
#include <optional>
#include <utility>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "runtime/cluster/link_rtt.hpp"
#include "runtime/cluster/link_table.hpp"
#include "runtime/cluster/member_table.hpp"
#include "runtime/cluster/peer_dial.hpp"
#include "runtime/log/log.hpp"
#include "runtime/metrics/metrics.hpp"

namespace herald::cluster {

namespace {

using steady_clock = std::chrono::steady_clock;
/// The retry timer: dial the peers whose backoff ended.
using redial_atom = caf::atom_constant<caf::atom("cl_redial")>;
/// Every heartbeat interval: ping every linked peer (link_rtt.hpp).
using rtt_tick_atom = caf::atom_constant<caf::atom("cl_rtttick")>;

metrics::counter& link_failures() {
  static auto& c = metrics::registry::global().get_counter(
      "herald_cluster_link_failures_total",
      "Dials and link handshakes to peers etcd lists up that failed (etcd membership); each is "
      "retried with backoff.");
  return c;
}

struct link_state {
  link_options opts;
  link_table table;
  wire::join_request hello;  ///< this node's link handshake (the static join's request)
  std::map<uint16_t, caf::actor> handles;
  /// What each monitored handle links to: (node id, instance).
  std::map<caf::actor_addr, std::pair<uint16_t, uint64_t>> linked_as;
  std::optional<steady_clock::time_point> wake_at;  ///< the pending redial_atom, if any
  link_rtt rtt;
};

using self_ptr = caf::stateful_actor<link_state>*;

void publish_peers(self_ptr self) {
  auto& st = self->state;
  std::map<uint16_t, caf::actor> peers;
  for (auto id : st.table.linked()) {
    peers.emplace(id, st.handles[id]);
  }
  st.opts.view->set_peers(std::move(peers));
}

void forget(self_ptr self, uint16_t node_id) {
  auto& st = self->state;
  auto it = st.handles.find(node_id);
  if (it == st.handles.end()) {
    return;
  }
  self->demonitor(it->second);
  st.linked_as.erase(it->second.address());
  st.handles.erase(it);
}

/// Makes sure a redial_atom arrives when the next waiting peer is due.
void schedule_wake(self_ptr self) {
  auto& st = self->state;
  auto next = st.table.next_due();
  if (!next || (st.wake_at && *st.wake_at <= *next)) {
    return;
  }
  st.wake_at = *next;
  auto delay = std::max(steady_clock::duration::zero(), *next - steady_clock::now());
  self->delayed_send(
      self,
      std::chrono::duration_cast<std::chrono::milliseconds>(delay) + std::chrono::milliseconds{1},
      redial_atom::value);
}

void failed(self_ptr self, const wire::member_info& peer, const std::string& why) {
  auto f = self->state.table.on_failed(peer.node_id, peer.instance, steady_clock::now());
  if (!f) {
    return;  // a dial of an instance etcd no longer lists
  }
  link_failures().inc();
  if (f->log) {
    log::get("cluster")->warn(
        "cluster: cannot link to node {} (id {}, {}): {}; {} failure(s) in a row, next attempt "
        "in {} ms",
        peer.name, peer.node_id, peer.address, why, f->in_a_row, f->retry_in.count());
  }
  schedule_wake(self);
}

void linked(self_ptr self, const caf::actor& h, const wire::member_info& peer) {
  auto& st = self->state;
  if (!st.table.on_linked(peer.node_id, peer.instance)) {
    return;  // stale: etcd lists another instance or none by now
  }
  auto it = st.handles.find(peer.node_id);
  if (it != st.handles.end() && it->second == h) {
    return;  // a second dial of the same link (the peer left and came back meanwhile)
  }
  forget(self, peer.node_id);
  st.handles.emplace(peer.node_id, h);
  st.linked_as[h.address()] = {peer.node_id, peer.instance};
  self->monitor(h);
  log::get("cluster")->info("cluster: linked to node {} (id {}, {}), instance {:x}", peer.name,
                            peer.node_id, peer.address, peer.instance);
  publish_peers(self);
}

/// The link handshake on a reached peer: it must accept and be the process etcd lists.
void handshake(self_ptr self, const caf::actor& h, const wire::member_info& peer) {
  auto& st = self->state;
  self->request(h, st.opts.config.failure_timeout, st.hello)
      .then(
          [self, h, peer](wire::join_reply& rep) {
            if (!rep.accepted) {
              failed(self, peer, "it refused the link: " + rep.refusal);
            } else if (rep.from.node_id != peer.node_id || rep.from.instance != peer.instance) {
              failed(self, peer,
                     "it answers as node id " + std::to_string(rep.from.node_id) +
                         ", another process than the one etcd lists");
            } else {
              linked(self, h, peer);
            }
          },
          [self, peer](caf::error& err) { failed(self, peer, self->system().render(err)); });
}

void dial_due(self_ptr self) {
  auto& st = self->state;
  for (const auto& peer : st.table.due(steady_clock::now())) {
    bool dialled = dial_peer(
        self, st.opts.middleman, peer.address, st.opts.config.failure_timeout,
        [self, peer](caf::actor h) {
          if (!h) {
            failed(self, peer, "it publishes no link actor");
            return;
          }
          handshake(self, h, peer);
        },
        [self, peer](std::string why) { failed(self, peer, why); });
    if (!dialled) {
      failed(self, peer, "its address is not HOST:PORT");
    }
  }
  schedule_wake(self);
}

void on_peers(self_ptr self, const std::vector<wire::member_info>& up) {
  auto& st = self->state;
  for (auto id : st.table.set_wanted(up, steady_clock::now())) {
    forget(self, id);
    log::get("cluster")->info(
        "cluster: unlinked node id {}: etcd lists it down or as another process", id);
  }
  publish_peers(self);
  dial_due(self);
}

wire::join_reply answer_link(self_ptr self, const wire::join_request& req) {
  auto& st = self->state;
  const auto& me = st.hello.from;
  if (req.from.instance == me.instance) {
    return wire::join_reply{false, "", me, {}};  // dialled ourselves
  }
  if (auto why = join_refusal(st.opts.config, me.instance, req)) {
    log::get("cluster")->error("cluster: refused a link: {}", *why);
    return wire::join_reply{false, *why, me, {}};
  }
  return wire::join_reply{true, "", me, {}};
}

void on_down(self_ptr self, const caf::down_msg& dm) {
  auto& st = self->state;
  auto it = st.linked_as.find(dm.source);
  if (it == st.linked_as.end()) {
    return;
  }
  auto [node_id, instance] = it->second;
  st.linked_as.erase(it);
  st.handles.erase(node_id);
  if (st.table.on_lost(node_id, instance, steady_clock::now())) {
    const auto* peer = st.table.find(node_id);
    log::get("cluster")->warn("cluster: link to node {} (id {}) lost; dialling it again",
                              peer != nullptr ? peer->name : "?", node_id);
    publish_peers(self);
    schedule_wake(self);
  }
}

/// One round-trip sample per linked peer (etcd says who is up; this only measures the links).
void ping_linked(self_ptr self) {
  auto& st = self->state;
  for (const auto& [node_id, h] : st.handles) {
    ping_peer(self, h, st.opts.config.failure_timeout, [self, id = node_id](uint64_t sent_ns) {
      const auto* peer = self->state.table.find(id);
      self->state.rtt.observe(id, peer != nullptr ? peer->name : std::to_string(id), sent_ns);
    });
  }
}

caf::behavior link_actor(self_ptr self, link_options opts) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.hello = member_table{st.opts.config, st.opts.instance, steady::now(), wall::now()}
                 .make_join_request();
  link_failures();  // the series exists (at 0) before the first failure
  self->set_down_handler([self](caf::down_msg& dm) { on_down(self, dm); });
  self->delayed_send(self, st.opts.config.heartbeat_interval, rtt_tick_atom::value);
  return {
      [self](rtt_tick_atom) {
        ping_linked(self);
        self->delayed_send(self, self->state.opts.config.heartbeat_interval, rtt_tick_atom::value);
      },
      [](ping_atom, uint64_t sent_ns) { return sent_ns; },
      [self](link_peers_atom, const std::vector<wire::member_info>& up) { on_peers(self, up); },
      [self](redial_atom) {
        self->state.wake_at.reset();
        dial_due(self);
      },
      [self](wire::join_request& req) { return answer_link(self, req); },
      [self](lookup_service_atom, caf::atom_value name) {
        return lookup_service(self->home_system(), name);
      },
  };
}

}  // namespace

caf::actor spawn_link_actor(caf::actor_system& sys, link_options opts) {
  return sys.spawn(link_actor, std::move(opts));
}

}  // namespace herald::cluster
