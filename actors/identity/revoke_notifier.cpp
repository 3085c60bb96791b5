// SPDX-License-Identifier: Apache-2.0
#include "actors/identity/revoke_notifier.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_registry.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/identity/revoke_wire.hpp"
#include "runtime/log/log.hpp"
#include "runtime/metrics/metrics.hpp"

namespace herald::identity {

namespace {

metrics::counter& notices(bool out) {
  static const char* help =
      "Token revoke notices this node's notifier sent to (out) or received from (in) other nodes";
  static auto& sent = metrics::registry::global().get_counter("herald_cluster_revoke_notices_total",
                                                              help, {{"direction", "out"}});
  static auto& received = metrics::registry::global().get_counter(
      "herald_cluster_revoke_notices_total", help, {{"direction", "in"}});
  return out ? sent : received;
}

metrics::counter& notices_failed() {
  static auto& c = metrics::registry::global().get_counter(
      "herald_cluster_revoke_notices_failed_total",
      "Token revoke notices that did not reach an up peer (no connection, no notifier there, no "
      "answer in time)");
  return c;
}

/// A notice a peer has not confirmed yet: its latest epoch for the user and when the first
/// attempt failed (steady clock).
struct pending_notice {
  uint64_t epoch = 0;
  std::chrono::steady_clock::time_point since;
};

struct notifier_state {
  revoke_notifier_options opts;
  /// Per peer, per user: the notices to send again once the peer is up and connected.
  /// Invariant: holds at most opts.max_pending entries in all; an entry leaves when the peer
  /// answers it or when it is older than opts.retry_for.
  std::map<uint16_t, std::map<uint64_t, pending_notice>> pending;
  size_t pending_count = 0;
  bool tick_scheduled = false;
  static inline const char* name = "revoke_notifier";
};

using notifier_ptr = caf::stateful_actor<notifier_state>*;

metrics::counter& notices_retried() {
  static auto& c = metrics::registry::global().get_counter(
      "herald_cluster_revoke_notices_retried_total",
      "Token revoke notices sent again to a peer that had missed them (down, frozen or cut off)");
  return c;
}

metrics::gauge& notices_pending() {
  static auto& g = metrics::registry::global().get_gauge(
      "herald_cluster_revoke_notices_pending",
      "Token revoke notices waiting for a peer to be reachable again");
  return g;
}

using retry_atom = caf::atom_constant<caf::atom("id_retry")>;

void schedule_retry(notifier_ptr self) {
  if (self->state.tick_scheduled || self->state.pending_count == 0) {
    return;
  }
  self->state.tick_scheduled = true;
  self->delayed_send(self, self->state.opts.retry_interval, retry_atom::value);
}

using time_point = std::chrono::steady_clock::time_point;

/// Keeps `n` to send to `peer` again; `since` is when it first failed (retry_for counts from
/// there). `first` logs the miss (once per notice, not per retry).
void keep(notifier_ptr self, uint16_t peer, const revoke_wire::revoke_notice& n,
          const std::string& why, bool first, time_point since) {
  auto& st = self->state;
  if (first) {
    notices_failed().inc();
    log::get("identity")
        ->warn(
            "revoke notice for user {} not delivered to node {}: {}; sent again every {} ms "
            "while it is reachable (for at most {} s). Meanwhile that node refuses the revoked "
            "token once its cached epoch is older than identity.epoch_cache_ttl",
            n.user_id, peer, why, st.opts.retry_interval.count(),
            std::chrono::duration_cast<std::chrono::seconds>(st.opts.retry_for).count());
  }
  auto& of_peer = st.pending[peer];
  auto it = of_peer.find(n.user_id);
  if (it != of_peer.end()) {
    it->second.epoch = std::max(it->second.epoch, n.epoch);  // a later revoke supersedes
  } else if (st.pending_count >= st.opts.max_pending) {
    log::get("identity")
        ->warn("revoke notice for user {} to node {} dropped: {} notices already wait", n.user_id,
               peer, st.pending_count);
    return;
  } else {
    of_peer.emplace(n.user_id, pending_notice{n.epoch, since});
    ++st.pending_count;
    notices_pending().set(static_cast<int64_t>(st.pending_count));
  }
  schedule_retry(self);
}

/// Finds `peer`'s notifier through its membership actor, then sends it the notice; a notice
/// that does not get its answer is kept for a retry. `first`: not a retry.
void notify(notifier_ptr self, uint16_t peer, revoke_wire::revoke_notice n, bool first,
            time_point since) {
  auto membership = self->state.opts.view->peer(peer);
  if (!membership) {
    keep(self, peer, n, "not connected", first, since);
    return;
  }
  auto timeout = self->state.opts.timeout;
  self->request(membership, timeout, cluster::lookup_service_atom::value, revoke_notifier_name)
      .then(
          [self, peer, n, timeout, first, since](caf::strong_actor_ptr& ptr) {
            if (!ptr) {
              keep(self, peer, n, "it runs no revoke notifier", first, since);
              return;
            }
            notices(true).inc();
            if (!first) {
              notices_retried().inc();
            }
            self->request(caf::actor_cast<caf::actor>(ptr), timeout, n)
                .then([] {},
                      [self, n, peer, first, since](caf::error& err) {
                        keep(self, peer, n, caf::to_string(err), first, since);
                      });
          },
          [self, n, peer, first, since](caf::error& err) {
            keep(self, peer, n, caf::to_string(err), first, since);
          });
}

/// Sends every kept notice of the peers that are up again; drops those older than retry_for.
void retry(notifier_ptr self) {
  auto& st = self->state;
  st.tick_scheduled = false;
  auto now = std::chrono::steady_clock::now();
  std::map<uint16_t, bool> up;
  for (const auto& row : st.opts.view->nodes()) {
    up[row.id] = row.up && !row.self;
  }
  struct due_notice {
    uint16_t peer;
    revoke_wire::revoke_notice notice;
    time_point since;
  };
  std::vector<due_notice> due;
  for (auto peer_it = st.pending.begin(); peer_it != st.pending.end();) {
    auto& [peer, users] = *peer_it;
    bool reachable = up[peer] && st.opts.view->peer(peer);
    for (auto it = users.begin(); it != users.end();) {
      bool expired = now - it->second.since > st.opts.retry_for;
      if (expired || reachable) {
        if (expired) {
          log::get("identity")
              ->warn("revoke notice for user {} to node {} given up after {} s", it->first, peer,
                     std::chrono::duration_cast<std::chrono::seconds>(st.opts.retry_for).count());
        } else {
          due.push_back(due_notice{
              peer, revoke_wire::revoke_notice{st.opts.node_id, it->first, it->second.epoch},
              it->second.since});
        }
        it = users.erase(it);
        --st.pending_count;
      } else {
        ++it;
      }
    }
    peer_it = users.empty() ? st.pending.erase(peer_it) : std::next(peer_it);
  }
  notices_pending().set(static_cast<int64_t>(st.pending_count));
  for (auto& d : due) {
    notify(self, d.peer, d.notice, false, d.since);  // a failure keeps it again
  }
  schedule_retry(self);
}

caf::behavior notifier(notifier_ptr self, revoke_notifier_options opts) {
  self->state.opts = std::move(opts);
  return {
      [self](revoke_atom, uint64_t user_id, uint64_t epoch) {
        revoke_wire::revoke_notice n{self->state.opts.node_id, user_id, epoch};
        for (const auto& row : self->state.opts.view->nodes()) {
          if (row.self) {
            continue;
          }
          if (row.up) {
            notify(self, row.id, n, true, std::chrono::steady_clock::now());
          } else {
            // It may still hold the user's connections when it is back (a frozen node).
            keep(self, row.id, n, "it is down", true, std::chrono::steady_clock::now());
          }
        }
      },
      [self](retry_atom) { retry(self); },
      [self](revoke_wire::revoke_notice& n) {
        notices(false).inc();
        const auto& o = self->state.opts;
        o.tokens->forget(n.user_id);
        if (o.close_connections) {
          o.close_connections(n.user_id);
        }
        log::get("identity")
            ->info(
                "revoke notice from node {}: user {} is at token epoch {}; cached epoch "
                "dropped, connections closed",
                n.from_node, n.user_id, n.epoch);
      },
  };
}

}  // namespace

caf::actor spawn_revoke_notifier(caf::actor_system& sys, revoke_notifier_options opts) {
  notices(true);  // the series exist (0) on every clustered node
  notices(false);
  notices_failed();
  notices_retried();
  notices_pending();
  auto a = sys.spawn(notifier, std::move(opts));
  sys.registry().put(revoke_notifier_name, a);
  return a;
}

void stop_revoke_notifier(caf::actor_system& sys, const caf::actor& notifier) {
  if (!notifier) {
    return;
  }
  if (sys.registry().get(revoke_notifier_name) ==
      caf::actor_cast<caf::strong_actor_ptr>(notifier)) {
    sys.registry().erase(revoke_notifier_name);
  }
  caf::anon_send_exit(notifier, caf::exit_reason::user_shutdown);
}

}  // namespace herald::identity
