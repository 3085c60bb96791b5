// SPDX-License-Identifier: Apache-2.0
#include "actors/relay/relay_actor.hpp"

#include <vector>

#include <spdlog/spdlog.h>
#include <caf/event_based_actor.hpp>
#include <caf/skip.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/relay/relay_messages.hpp"
#include "actors/relay/relay_partition.hpp"
#include "actors/services/dispatch_error.hpp"
#include "runtime/metrics/actor_metrics.hpp"
#include "runtime/registry/ensure_started.hpp"

namespace herald::relay {

namespace {

struct relay_state {
  dispatch::services_ptr svc_;
  uint64_t guild_id_ = 0;
  std::vector<caf::actor> partitions_;  // fixed after start; index = partition_of()
  static inline const char* name = "relay";
};

using relay_actor = caf::stateful_actor<relay_state>;

metrics::counter& handled() {
  static auto& c = metrics::messages_handled("relay");
  return c;
}

caf::behavior ready_behavior(relay_actor* self);

/// Looks up (or starts) the guild, then calls `f(guild)`; errors go to `fail`.
template <class F, class Fail>
void with_guild(relay_actor* self, F f, Fail fail) {
  auto& svc = *self->state.svc_;
  registry::ensure_started(self, svc.guilds, svc.guild_supervisor, svc.guild_spec,
                           self->state.guild_id_, svc.config.request_timeout,
                           [f, fail](caf::expected<caf::actor> guild) mutable {
                             if (guild) {
                               f(*guild);
                             } else {
                               fail(dispatch::from_start_error(std::move(guild.error())));
                             }
                           });
}

uint32_t partition_count(const dispatch::dispatch_config& cfg, uint64_t members,
                         caf::actor_system& sys) {
  if (members < cfg.relay_partition_threshold) {
    return 1;
  }
  if (cfg.relay_partitions > 0) {
    return cfg.relay_partitions;
  }
  return std::max<uint32_t>(1, static_cast<uint32_t>(sys.scheduler().num_workers()));
}

// Registers with one guild incarnation and watches it: if that incarnation
// dies before (or after) handling the registration, the relay registers with
// the next one, so it can never be left out of a restarted guild's fan-out.
void register_with(relay_actor* self, const caf::actor& guild) {
  auto me = caf::actor_cast<caf::actor>(self);
  self->monitor(guild);
  self->send(guild, register_atom::value, me, self->state.partitions_);
}

void on_guild_down(relay_actor* self) {
  with_guild(
      self, [self](const caf::actor& next) { register_with(self, next); },
      [self](const caf::error& err) {
        spdlog::warn("relay {}: guild unavailable after a crash: {}", self->state.guild_id_,
                     dispatch::describe(err));
      });
}

// Start-up: size the relay from the guild's member count, spawn the
// partitions, join the group, register. Requests meanwhile stay queued
// (default handler skip) and are handled by ready_behavior in order.
void start_relay(relay_actor* self) {
  self->set_default_handler(caf::skip);
  self->set_down_handler([self](const caf::down_msg&) { on_guild_down(self); });
  auto fail = [self](const caf::error& err) { self->quit(err); };
  with_guild(
      self,
      [self, fail](const caf::actor& guild) {
        self->request(guild, self->state.svc_->config.request_timeout, members_atom::value)
            .then(
                [self, guild](uint64_t members) {
                  auto& st = self->state;
                  auto n = partition_count(st.svc_->config, members, self->system());
                  for (uint32_t i = 0; i < n; ++i) {
                    auto p = spawn_relay_partition(self->system());
                    self->link_to(p);
                    st.partitions_.push_back(p);
                  }
                  caf::actor me = caf::actor_cast<caf::actor>(self);
                  st.svc_->relay_groups.join(st.guild_id_, me);
                  register_with(self, guild);
                  self->set_default_handler(caf::print_and_drop);
                  self->become(ready_behavior(self));
                },
                fail);
      },
      fail);
}

caf::behavior ready_behavior(relay_actor* self) {
  return {
      // Routed through the guild so the subscription is ordered with events.
      // Delegated, not requested: the guild answers the session directly, so
      // the relay keeps no pending response per subscribing session. (CAF 0.17
      // keeps pending responses in a flat vector searched and erased linearly;
      // 100,000 sessions subscribing at once cost the relay O(n^2) — seconds of
      // CPU stolen from the fan-out.)
      [self](subscribe_atom, session::session_output_ptr& output) -> caf::result<caf::ok_atom> {
        handled().inc();
        auto promise = self->make_response_promise<caf::ok_atom>();
        auto index = partition_of(output->session_id(),
                                  static_cast<uint32_t>(self->state.partitions_.size()));
        auto partition = self->state.partitions_[index];
        with_guild(
            self,
            [promise, output, partition](const caf::actor& guild) mutable {
              promise.delegate(guild, subscribe_atom::value, output, partition);
            },
            [promise](const caf::error& err) mutable { promise.deliver(err); });
        return promise;
      },
      [self](partitions_atom) {
        handled().inc();
        return self->state.partitions_;
      },
      [self](unsubscribe_atom, uint64_t session_id) {
        handled().inc();
        auto& parts = self->state.partitions_;
        auto index = partition_of(session_id, static_cast<uint32_t>(parts.size()));
        self->send(parts[index], remove_session_atom::value, session_id);
      },
  };
}

}  // namespace

caf::expected<caf::actor> spawn_relay(const dispatch::services_ptr& svc, uint64_t guild_id) {
  return svc->system.spawn([svc, guild_id](relay_actor* self) -> caf::behavior {
    self->state.svc_ = svc;
    self->state.guild_id_ = guild_id;
    start_relay(self);
    return {};
  });
}

}  // namespace herald::relay
