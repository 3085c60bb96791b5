// SPDX-License-Identifier: Apache-2.0
#include "actors/session/session_actor.hpp"

#include <algorithm>
#include <cstdio>
#include <unordered_map>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/dispatch/ensure_started.hpp"
#include "actors/guild/encode.hpp"
#include "actors/relay/relay_messages.hpp"
#include "runtime/metrics/actor_metrics.hpp"

namespace herald::session {

namespace {

using expire_atom = caf::atom_constant<caf::atom("expire")>;

struct session_state {
  dispatch::services_ptr svc_;
  session_output_ptr output_;
  std::vector<uint64_t> subscribed_;      // guild ids, in subscription order, each once
  // guild id → generation of its latest subscribe/leave; a subscribe reply
  // only counts if no join or leave happened since it was sent (bug D: a
  // stale reply listed a guild twice, or after the user left it).
  std::unordered_map<uint64_t, uint64_t> subscribe_generation_;
  std::vector<caf::actor> relays_;        // every relay asked to subscribe us
  bool connected_ = true;  // opened by a connection's Identify
  uint64_t disconnect_generation_ = 0;    // invalidates stale expiry timers

  ~session_state() {
    // Relays drop the session's buffer reference; nothing is written after.
    if (output_) {
      for (const auto& relay : relays_) {
        caf::anon_send(relay, relay::unsubscribe_atom::value, output_->session_id());
      }
    }
  }
  static inline const char* name = "session";
};

using session_actor = caf::stateful_actor<session_state>;

metrics::counter& handled() {
  static auto& c = metrics::messages_handled("session");
  return c;
}

std::string hex_session_id(uint64_t id) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(id));
  return buf;
}

void write_ready(session_actor* self, const session_params& params) {
  guild::ready_info info;
  info.user_ = params.user;
  info.guild_ids_.assign(params.guild_ids.begin(), params.guild_ids.end());
  info.session_id_ = hex_session_id(params.session_id);
  info.resume_gateway_url_ = self->state.svc_->config.resume_gateway_url;
  info.application_id_ = params.user.id_;
  info.shard_ = params.shard;
  self->state.output_->buffer().append_dispatch(guild::ready_tail(info));
}

/// (resubscribe_atom, uint64_t guild_id, uint32_t attempt, uint64_t generation):
/// retry a subscription that failed for a retryable reason, unless a join or
/// leave of that guild happened since (generation changed).
using resubscribe_atom = caf::atom_constant<caf::atom("resub")>;

// A subscription that failed because the guild or its relay crashed or timed
// out is retried (50 ms, doubling, at most 5 s apart) while the session
// lives: giving up would leave the session silently without the guild.
void subscribe_failed(session_actor* self, uint64_t guild_id, uint32_t attempt,
                      uint64_t generation, const caf::error& err) {
  spdlog::warn("session {}: subscribe to guild {} failed: {}", self->state.output_->session_id(),
               guild_id, dispatch::describe(err));
  if (dispatch::is_retryable(err)) {
    auto delay = std::chrono::milliseconds{
      std::min<int64_t>(5000, int64_t{50} << std::min(attempt, 7u))};
    self->delayed_send(self, delay, resubscribe_atom::value, guild_id, attempt + 1, generation);
  }
}

void forget_subscription(session_actor* self, uint64_t guild_id) {
  auto& subs = self->state.subscribed_;
  subs.erase(std::remove(subs.begin(), subs.end(), guild_id), subs.end());
  ++self->state.subscribe_generation_[guild_id];
}

void subscribe(session_actor* self, uint64_t guild_id, uint32_t attempt = 0) {
  auto& svc = *self->state.svc_;
  uint64_t generation = self->state.subscribe_generation_[guild_id];
  dispatch::ensure_started(
    self, svc.relays, svc.relay_supervisor, svc.relay_spec, guild_id, svc.config.request_timeout,
    [self, guild_id, attempt, generation](caf::expected<caf::actor> relay) {
      if (generation != self->state.subscribe_generation_[guild_id]) {
        return;  // superseded by a later join or leave
      }
      if (!relay) {
        subscribe_failed(self, guild_id, attempt, generation, relay.error());
        return;
      }
      auto handle = *relay;
      // Remembered before the reply: a subscribe that times out may still
      // land, and unsubscribing a session that is not there is harmless.
      self->state.relays_.push_back(handle);
      self->request(handle, self->state.svc_->config.request_timeout,
                    relay::subscribe_atom::value, self->state.output_)
        .then(
          [self, guild_id, generation](caf::ok_atom) {
            auto& st = self->state;
            auto& subs = st.subscribed_;
            if (generation == st.subscribe_generation_[guild_id] &&
                std::find(subs.begin(), subs.end(), guild_id) == subs.end()) {
              subs.push_back(guild_id);
            }
          },
          [self, guild_id, attempt, generation](caf::error& err) {
            if (generation == self->state.subscribe_generation_[guild_id]) {
              subscribe_failed(self, guild_id, attempt, generation, err);
            }
          });
    });
}

caf::behavior session_behavior(session_actor* self) {
  return {
    [self](connected_atom) {
      handled().inc();
      self->state.connected_ = true;
      ++self->state.disconnect_generation_;
    },
    [self](disconnected_atom) {
      handled().inc();
      auto& st = self->state;
      st.connected_ = false;
      self->delayed_send(self, st.svc_->config.resume_window, expire_atom::value,
                         ++st.disconnect_generation_);
    },
    [self](expire_atom, uint64_t generation) {
      handled().inc();
      if (!self->state.connected_ && generation == self->state.disconnect_generation_) {
        self->quit();  // resume window over
      }
    },
    [self](close_atom) {
      handled().inc();
      self->quit();
    },
    [self](join_guild_atom, uint64_t guild_id) {
      handled().inc();
      // The user just became a member. If it was one before, the relay
      // dropped this session when it left (remove_user): subscribe again.
      forget_subscription(self, guild_id);
      subscribe(self, guild_id);
    },
    [self](leave_guild_atom, uint64_t guild_id) {
      handled().inc();
      forget_subscription(self, guild_id);
    },
    [self](resume_atom) {
      handled().inc();
      return self->state.output_;
    },
    [self](resubscribe_atom, uint64_t guild_id, uint32_t attempt, uint64_t generation) {
      handled().inc();
      if (generation == self->state.subscribe_generation_[guild_id]) {
        subscribe(self, guild_id, attempt);  // else a join or leave superseded the retry
      }
    },
    [self](subscriptions_atom) {
      handled().inc();
      return self->state.subscribed_;
    },
  };
}

}  // namespace

caf::expected<caf::actor> spawn_session(const dispatch::services_ptr& svc, session_params params,
                                        session_output_ptr output) {
  return svc->system.spawn([svc, params = std::move(params),
                            output = std::move(output)](session_actor* self) -> caf::behavior {
    auto& st = self->state;
    st.svc_ = svc;
    st.output_ = output;
    write_ready(self, params);
    caf::actor me = caf::actor_cast<caf::actor>(self);
    svc->user_sessions.join(params.user.id_, me);
    for (auto guild_id : params.guild_ids) {
      subscribe(self, guild_id);
    }
    return session_behavior(self);
  });
}

}  // namespace herald::session
