// SPDX-License-Identifier: Apache-2.0
#include "actors/identity/revoke_notifier.hpp"

#include <string>

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

struct notifier_state {
  revoke_notifier_options opts;
  static inline const char* name = "revoke_notifier";
};

using notifier_ptr = caf::stateful_actor<notifier_state>*;

void failed(const revoke_wire::revoke_notice& n, uint16_t peer, const std::string& why) {
  notices_failed().inc();
  log::get("identity")
      ->warn(
          "revoke notice for user {} not delivered to node {}: {}; that node refuses the revoked "
          "token once its cached epoch is older than identity.epoch_cache_ttl, its open "
          "connections of the user stay open",
          n.user_id, peer, why);
}

/// Finds `peer`'s notifier through its membership actor, then sends it the notice.
void notify(notifier_ptr self, uint16_t peer, revoke_wire::revoke_notice n) {
  auto membership = self->state.opts.view->peer(peer);
  if (!membership) {
    failed(n, peer, "not connected");
    return;
  }
  auto timeout = self->state.opts.timeout;
  self->request(membership, timeout, cluster::lookup_service_atom::value, revoke_notifier_name)
      .then(
          [self, peer, n, timeout](caf::strong_actor_ptr& ptr) {
            if (!ptr) {
              failed(n, peer, "it runs no revoke notifier");
              return;
            }
            notices(true).inc();
            self->request(caf::actor_cast<caf::actor>(ptr), timeout, n)
                .then([] {}, [n, peer](caf::error& err) { failed(n, peer, caf::to_string(err)); });
          },
          [n, peer](caf::error& err) { failed(n, peer, caf::to_string(err)); });
}

caf::behavior notifier(notifier_ptr self, revoke_notifier_options opts) {
  self->state.opts = std::move(opts);
  return {
      [self](revoke_atom, uint64_t user_id, uint64_t epoch) {
        revoke_wire::revoke_notice n{self->state.opts.node_id, user_id, epoch};
        for (const auto& row : self->state.opts.view->nodes()) {
          if (!row.self && row.up) {
            notify(self, row.id, n);
          }
        }
      },
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
