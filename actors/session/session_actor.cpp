// SPDX-License-Identifier: Apache-2.0
#include "actors/session/session_actor.hpp"

#include <algorithm>
#include <cstdio>
#include <memory>

#include <spdlog/spdlog.h>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/encoding/encode.hpp"
#include "actors/relay/relay_messages.hpp"
#include "actors/services/dispatch_error.hpp"
#include "actors/session/migrate_wire.hpp"
#include "runtime/metrics/actor_metrics.hpp"
#include "runtime/registry/ensure_started.hpp"

namespace herald::session {

namespace {

using expire_atom = caf::atom_constant<caf::atom("expire")>;

// One guild the session asked to subscribe to. Why one small vector of these
// instead of (subscribed list, generation map, relay list): an idle session
// keeps this state for hours, and a hash map's bucket array plus three heap
// blocks cost ~200 bytes per session for what is usually one or a few guilds
// (docs/benchmarks.md, "Dispatch fan-out (dispatch-core issue)").
struct guild_entry {
  uint64_t guild_id = 0;
  // Generation of the latest subscribe/leave of this guild; a subscribe reply
  // only counts if no join or leave happened since it was sent (bug D: a
  // stale reply listed a guild twice, or after the user left it).
  uint64_t generation = 0;
  caf::actor relay;            // the latest relay asked to subscribe us, if any
  uint32_t subscribed_at = 0;  // position in subscription order; 0: not subscribed
};

struct session_state {
  dispatch::services_ptr svc_;
  session_output_ptr output_;
  std::vector<guild_entry> guilds_;  // in first-asked order, each guild once
  // Relays asked before the guild's current one (a relay restarted between
  // attempts); rare, kept so that exit unsubscribes from every relay asked.
  std::vector<caf::actor> older_relays_;
  uint64_t disconnect_generation_ = 0;  // invalidates stale expiry timers
  uint32_t subscriptions_ = 0;          // subscribed_at of the latest subscription
  bool connected_ = true;               // opened by a connection's Identify
  // Migrated in: guilds still to subscribe after their cursor (guild id, cursor); each entry goes
  // once that subscription landed, or when a join or leave of the guild supersedes it.
  std::vector<std::pair<uint64_t, uint64_t>> cursors_;
  std::optional<std::array<uint32_t, 2>> shard_;  // its Identify's shard, for a migration
  bool migrating_ = false;  // handing itself over to another node: nothing attaches any more

  guild_entry& guild(uint64_t guild_id) {
    for (auto& g : guilds_) {
      if (g.guild_id == guild_id) {
        return g;
      }
    }
    guilds_.push_back(guild_entry{guild_id, 0, caf::actor{}, 0});
    return guilds_.back();
  }

  ~session_state() {
    // Relays drop the session's buffer reference; nothing is written after.
    if (output_) {
      for (const auto& g : guilds_) {
        if (g.relay) {
          caf::anon_send(g.relay, relay::unsubscribe_atom::value, output_->session_id());
        }
      }
      for (const auto& relay : older_relays_) {
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
  encoding::ready_info info;
  info.user_ = params.user;
  info.guild_ids_.assign(params.guild_ids.begin(), params.guild_ids.end());
  info.session_id_ = hex_session_id(params.session_id);
  info.resume_gateway_url_ = self->state.svc_->config.resume_gateway_url;
  info.application_id_ = params.user.id_;
  info.shard_ = params.shard;
  self->state.output_->buffer().append_dispatch(encoding::ready_tail(info));
}

/// (resubscribe_atom, uint64_t guild_id, uint32_t attempt, uint64_t generation):
/// retry a subscription that failed for a retryable reason, unless a join or
/// leave of that guild happened since (generation changed).
using resubscribe_atom = caf::atom_constant<caf::atom("resub")>;

// A subscription that failed because the guild or its relay crashed or timed
// out is retried (50 ms, doubling, at most 5 s apart) while the session
// lives: giving up would leave the session silently without the guild.
void subscribe_failed(session_actor* self, uint64_t guild_id, uint32_t attempt, uint64_t generation,
                      const caf::error& err) {
  spdlog::warn("session {}: subscribe to guild {} failed: {}", self->state.output_->session_id(),
               guild_id, dispatch::describe(err));
  if (dispatch::is_retryable(err)) {
    auto delay =
        std::chrono::milliseconds{std::min<int64_t>(5000, int64_t{50} << std::min(attempt, 7u))};
    self->delayed_send(self, delay, resubscribe_atom::value, guild_id, attempt + 1, generation);
  }
}

void drop_cursor(session_state& st, uint64_t guild_id) {
  auto& c = st.cursors_;
  c.erase(
      std::remove_if(c.begin(), c.end(), [guild_id](const auto& x) { return x.first == guild_id; }),
      c.end());
}

void forget_subscription(session_actor* self, uint64_t guild_id) {
  auto& g = self->state.guild(guild_id);
  g.subscribed_at = 0;
  ++g.generation;
  drop_cursor(self->state, guild_id);  // a join or leave since: the next subscribe is a fresh one
}

// A migrated session's guild continues after its cursor; any other subscribe gets GUILD_CREATE.
auto send_subscribe(session_actor* self, const caf::actor& relay, uint64_t guild_id) {
  auto& st = self->state;
  auto timeout = st.svc_->config.request_timeout;
  for (const auto& [g, cursor] : st.cursors_) {
    if (g == guild_id) {
      return self->request(relay, timeout, relay::subscribe_after_atom::value, st.output_, cursor);
    }
  }
  return self->request(relay, timeout, relay::subscribe_atom::value, st.output_);
}

void subscribe(session_actor* self, uint64_t guild_id, uint32_t attempt = 0) {
  auto& svc = *self->state.svc_;
  uint64_t generation = self->state.guild(guild_id).generation;
  registry::ensure_started(self, svc.relays, svc.relay_supervisor, svc.relay_spec, guild_id,
                           svc.config.request_timeout,
                           [self, guild_id, attempt, generation](caf::expected<caf::actor> relay) {
                             auto& entry = self->state.guild(guild_id);
                             if (generation != entry.generation) {
                               return;  // superseded by a later join or leave
                             }
                             if (!relay) {
                               subscribe_failed(self, guild_id, attempt, generation,
                                                dispatch::from_start_error(relay.error()));
                               return;
                             }
                             auto handle = *relay;
                             // Remembered before the reply: a subscribe that times out may still
                             // land, and unsubscribing a session that is not there is harmless.
                             if (entry.relay != handle) {
                               if (entry.relay) {
                                 self->state.older_relays_.push_back(std::move(entry.relay));
                               }
                               entry.relay = handle;
                             }
                             send_subscribe(self, handle, guild_id)
                                 .then(
                                     [self, guild_id, generation](caf::ok_atom) {
                                       auto& st = self->state;
                                       auto& g = st.guild(guild_id);
                                       if (generation == g.generation && g.subscribed_at == 0) {
                                         g.subscribed_at = ++st.subscriptions_;
                                         drop_cursor(st, guild_id);
                                       }
                                     },
                                     [self, guild_id, attempt, generation](caf::error& err) {
                                       if (generation == self->state.guild(guild_id).generation) {
                                         subscribe_failed(self, guild_id, attempt, generation, err);
                                       }
                                     });
                           });
}

std::vector<uint64_t> subscriptions(const session_state& st) {
  std::vector<const guild_entry*> subscribed;
  for (const auto& g : st.guilds_) {
    if (g.subscribed_at != 0) {
      subscribed.push_back(&g);
    }
  }
  std::sort(subscribed.begin(), subscribed.end(), [](const guild_entry* a, const guild_entry* b) {
    return a->subscribed_at < b->subscribed_at;
  });
  std::vector<uint64_t> ids;
  ids.reserve(subscribed.size());
  for (const auto* g : subscribed) {
    ids.push_back(g->guild_id);
  }
  return ids;
}

// One hand-over in progress: the relays' answers still awaited and the reply being filled.
struct migration {
  caf::response_promise rp;
  uint64_t seq = 0;
  size_t waiting = 0;
  session::migrate_wire::migrate_reply reply;
};
using migration_ptr = std::shared_ptr<migration>;

// Every relay has let the session go: nothing writes to the output any more, so its frames
// after the client's seq are final.
void finish_migration(session_actor* self, const migration_ptr& m) {
  auto& buffer = self->state.output_->buffer();
  self->state.output_->close();
  // Every relay already dropped the session: the exit sends no unsubscribe, which could reach a
  // relay after the same session id subscribed again there (taken over on this node's peer and
  // back, or in one process).
  for (auto& g : self->state.guilds_) {
    g.relay = caf::actor{};
  }
  std::vector<shared_tail> tails;
  auto status = buffer.frames_after(m->seq, tails);
  if (status != resume_status::ok) {
    m->rp.deliver(dispatch::make_error(dispatch::dispatch_errc::unavailable,
                                       std::string{"cannot migrate: "} + to_string(status)));
    self->quit();
    return;
  }
  m->reply.next_seq = buffer.last_seq() + 1;
  for (auto& t : tails) {
    m->reply.frames.push_back(relay::relay_wire::tail_bytes{std::move(t)});
  }
  sessions_migrated("out").inc();
  m->rp.deliver(std::move(m->reply));
  self->quit();
}

void relay_let_go(session_actor* self, const migration_ptr& m, uint64_t guild_id, bool subscribed,
                  uint64_t cursor) {
  if (subscribed) {
    m->reply.cursor_guilds.push_back(guild_id);
    m->reply.cursor_orders.push_back(cursor);
  }
  if (--m->waiting == 0) {
    finish_migration(self, m);
  }
}

caf::error refuse_migration(const session_state& st, uint64_t user_id, uint64_t seq,
                            bool node_draining) {
  auto refuse = [](const char* why) {
    return dispatch::make_error(dispatch::dispatch_errc::unavailable, why);
  };
  if (st.migrating_ || st.output_->user_id() != user_id) {
    return refuse("unknown session");
  }
  if (st.connected_ && !node_draining) {
    return refuse("the session is connected here");
  }
  std::vector<shared_tail> probe;
  if (st.output_->buffer().frames_after(seq, probe) != resume_status::ok) {
    return refuse("the client's seq cannot be resumed");
  }
  return {};
}

// Asks every relay the session went through to drop it; each partition answers with its cursor.
caf::result<caf::message> start_migration(session_actor* self, uint64_t user_id, uint64_t seq,
                                          bool node_draining) {
  auto& st = self->state;
  if (auto err = refuse_migration(st, user_id, seq, node_draining)) {
    return err;
  }
  st.migrating_ = true;
  auto m = std::make_shared<migration>();
  m->rp = self->make_response_promise();
  m->seq = seq;
  auto& r = m->reply;
  r.session_id = st.output_->session_id();
  r.user_id = user_id;
  r.granted = st.output_->granted();
  r.sharded = st.shard_.has_value();
  if (st.shard_) {
    r.shard_id = (*st.shard_)[0];
    r.shard_count = (*st.shard_)[1];
  }
  for (const auto& relay : st.older_relays_) {
    caf::anon_send(relay, relay::unsubscribe_atom::value, r.session_id);
  }
  st.older_relays_.clear();
  m->waiting = 1;  // released below, after every request is out
  for (const auto& g : st.guilds_) {
    r.guild_ids.push_back(g.guild_id);
    if (!g.relay) {
      continue;
    }
    ++m->waiting;
    auto guild_id = g.guild_id;
    bool had_guild_create = g.subscribed_at != 0;
    self->request(g.relay, st.svc_->config.request_timeout, relay::migrate_out_atom::value,
                  r.session_id)
        .then(
            [self, m, guild_id](bool subscribed, uint64_t cursor) {
              relay_let_go(self, m, guild_id, subscribed, cursor);
            },
            [self, m, guild_id, had_guild_create](caf::error&) {
              // The relay is gone: an unknown cursor (a resync) if the session had the guild,
              // else a fresh subscribe.
              relay_let_go(self, m, guild_id, had_guild_create, relay::unknown_cursor);
            });
  }
  relay_let_go(self, m, 0, false, 0);
  return caf::delegated<caf::message>{};
}

// Messages are handled by a plain function installed as the actor's default
// handler, and every session shares ONE behavior (a single case for an atom
// nobody sends, so that the behavior stack is not empty). Why: a behavior
// built from nine lambdas capturing `self` is a 408-byte heap block per
// session; the default handler receives `self` as an argument, so nothing
// per session is allocated for message dispatch. The messages and replies
// are those documented in session_actor.hpp.
using never_atom = caf::atom_constant<caf::atom("s_never")>;

const caf::behavior& shared_session_behavior() {
  // Leaked on purpose: actors may hold references to it until the actor
  // system is gone, after static destructors would have run.
  static const caf::behavior* shared = new caf::behavior{[](never_atom) {}};
  return *shared;
}

caf::result<caf::message> handle(caf::scheduled_actor* base, caf::message_view& view) {
  auto* self = static_cast<session_actor*>(base);
  auto& st = self->state;
  const auto& xs = view.content();
  if (xs.match_elements<connected_atom>()) {
    handled().inc();
    st.connected_ = true;
    ++st.disconnect_generation_;
    return caf::message{};
  }
  if (xs.match_elements<disconnected_atom>()) {
    handled().inc();
    st.connected_ = false;
    self->delayed_send(self, st.svc_->config.resume_window, expire_atom::value,
                       ++st.disconnect_generation_);
    return caf::message{};
  }
  if (xs.match_elements<expire_atom, uint64_t>()) {
    handled().inc();
    if (!st.connected_ && xs.get_as<uint64_t>(1) == st.disconnect_generation_) {
      self->quit();  // resume window over
    }
    return caf::message{};
  }
  if (xs.match_elements<close_atom>()) {
    handled().inc();
    self->quit();
    return caf::message{};
  }
  if (xs.match_elements<join_guild_atom, uint64_t>()) {
    handled().inc();
    // The user just became a member. If it was one before, the relay
    // dropped this session when it left (remove_user): subscribe again.
    auto guild_id = xs.get_as<uint64_t>(1);
    forget_subscription(self, guild_id);
    subscribe(self, guild_id);
    return caf::message{};
  }
  if (xs.match_elements<leave_guild_atom, uint64_t>()) {
    handled().inc();
    forget_subscription(self, xs.get_as<uint64_t>(1));
    return caf::message{};
  }
  if (xs.match_elements<resume_atom>()) {
    handled().inc();
    if (st.migrating_) {
      return dispatch::make_error(dispatch::dispatch_errc::unavailable, "session migrating");
    }
    return caf::make_message(st.output_);
  }
  if (xs.match_elements<migrate_atom, uint64_t, uint64_t, bool>()) {
    handled().inc();
    return start_migration(self, xs.get_as<uint64_t>(1), xs.get_as<uint64_t>(2),
                           xs.get_as<bool>(3));
  }
  if (xs.match_elements<resubscribe_atom, uint64_t, uint32_t, uint64_t>()) {
    handled().inc();
    auto guild_id = xs.get_as<uint64_t>(1);
    if (xs.get_as<uint64_t>(3) == st.guild(guild_id).generation) {
      subscribe(self, guild_id, xs.get_as<uint32_t>(2));  // else superseded
    }
    return caf::message{};
  }
  if (xs.match_elements<subscriptions_atom>()) {
    handled().inc();
    return caf::make_message(subscriptions(st));
  }
  return caf::print_and_drop(base, view);
}

}  // namespace

metrics::counter& sessions_migrated(const std::string& direction) {
  return metrics::registry::global().get_counter(
      "herald_gateway_sessions_migrated_total",
      "Sessions a drain told to reconnect elsewhere (told, op 7), handed over to another node "
      "(out) or taken over from one (in) on a Resume",
      {{"direction", direction}});
}

caf::expected<caf::actor> spawn_session(const dispatch::services_ptr& svc, session_params params,
                                        session_output_ptr output) {
  return svc->system.spawn([svc, params = std::move(params),
                            output = std::move(output)](session_actor* self) -> caf::behavior {
    auto& st = self->state;
    st.svc_ = svc;
    st.output_ = output;
    st.shard_ = params.shard;
    if (params.migrated) {
      st.cursors_ = params.cursors;  // the output already holds its frames: no READY
    } else {
      write_ready(self, params);
    }
    caf::actor me = caf::actor_cast<caf::actor>(self);
    svc->user_sessions.join(params.user.id_, me);
    for (auto guild_id : params.guild_ids) {
      subscribe(self, guild_id);
    }
    self->set_default_handler(handle);
    return shared_session_behavior();
  });
}

}  // namespace herald::session
