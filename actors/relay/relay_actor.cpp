// SPDX-License-Identifier: Apache-2.0
#include "actors/relay/relay_actor.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include <spdlog/spdlog.h>
#include <caf/event_based_actor.hpp>
#include <caf/skip.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/relay/downlink.hpp"
#include "actors/relay/relay_messages.hpp"
#include "actors/relay/relay_metrics.hpp"
#include "actors/relay/relay_partition.hpp"
#include "actors/relay/relay_stream.hpp"
#include "actors/relay/relay_wire.hpp"
#include "actors/services/dispatch_error.hpp"
#include "actors/services/membership_messages.hpp"
#include "actors/services/placement.hpp"
#include "runtime/cluster/cluster_view.hpp"
#include "runtime/metrics/actor_metrics.hpp"
#include "runtime/registry/ensure_started.hpp"

namespace herald::relay {

namespace {

/// (reconnect_atom): feed again from the guild's current owner after the feed was lost.
using reconnect_atom = caf::atom_constant<caf::atom("r_reconn")>;
/// At most this many early batches are kept (relay_state::early_). More are dropped; if they
/// were the new exporter's, the gap in its seqs makes the relay attach again (feed_batch).
constexpr size_t early_batches_max = 16;
/// A relay asked to check its owner while it (re)connects checks again this much later: the
/// ring may have changed after the connection picked its owner.
constexpr std::chrono::seconds owner_recheck_delay{1};

/// A session whose subscribe went to the exporter: answered when its `subscriber` item arrives.
struct pending_subscribe {
  session::session_output_ptr output;
  caf::actor partition;
  caf::response_promise promise;
};

struct relay_state {
  dispatch::services_ptr svc_;
  uint64_t guild_id_ = 0;
  std::vector<caf::actor> partitions_;  // fixed after start; index = partition_of()
  // The feed: the guild actor on this node, or the exporter on the owner node (remote_).
  bool remote_ = false;
  uint16_t owner_ = 0;     // the owner node feeding a remote relay
  caf::actor guild_;       // the local guild incarnation registered with
  caf::actor exporter_;    // invalid while a remote feed is (re)connecting
  uint64_t next_seq_ = 0;  // the seq of the exporter's next batch (1 for a new exporter)
  bool connecting_ = false;
  uint32_t attempt_ = 0;                                     // reconnect backoff
  std::unordered_map<uint64_t, pending_subscribe> pending_;  // by session id (remote only)
  // Batches that arrived while an attach was in flight from an exporter this relay does not
  // know yet (its owner node and actor id). The exporter's first batches (the view_reset
  // first) travel through the owner's uplink and this node's downlink while the attach reply
  // goes through the owner's router, so they may come first; dropping them would open the
  // stream with a gap. Bounded by early_batches_max.
  struct early_batch {
    caf::node_id owner;
    uint64_t exporter_id = 0;
    relay_wire::batch items;
  };
  std::vector<early_batch> early_;
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

void make_partitions(relay_actor* self, uint64_t members) {
  auto& st = self->state;
  auto n = partition_count(st.svc_->config, members, self->system());
  for (uint32_t i = 0; i < n; ++i) {
    auto p = spawn_relay_partition(self->system(), st.guild_id_, caf::actor_cast<caf::actor>(self),
                                   st.svc_->config.relay_recent_events,
                                   st.svc_->config.relay_recent_bytes);
    self->link_to(p);
    st.partitions_.push_back(p);
  }
}

template <class... Ts>
void to_partitions(relay_actor* self, const Ts&... xs) {
  for (const auto& p : self->state.partitions_) {
    self->send(p, xs...);
  }
}

// Registers with one guild incarnation and watches it: if that incarnation
// dies before (or after) handling the registration, the relay registers with
// the next one, so it can never be left out of a restarted guild's fan-out. With a cursor (the
// partitions were fed by another owner before) the guild replays its tail after it.
void register_with(relay_actor* self, const caf::actor& guild,
                   const std::optional<stream_position>& cursor) {
  auto& st = self->state;
  auto me = caf::actor_cast<caf::actor>(self);
  st.remote_ = false;
  st.guild_ = guild;
  st.svc_->relay_groups.join(st.guild_id_, me);
  self->monitor(guild);
  if (cursor) {
    self->send(guild, register_atom::value, me, st.partitions_, cursor->epoch, cursor->order);
  } else {
    self->send(guild, register_atom::value, me, st.partitions_);
  }
}

/// Asks every partition for its cursor and calls `f` with the oldest (nullopt when none has
/// one): where a new feed must replay from so that no partition misses an event. Partitions are
/// linked to the relay, so each answers unless the relay is ending.
template <class F>
void with_cursor(relay_actor* self, F f) {
  struct gathered {
    size_t waiting = 0;
    std::optional<stream_position> oldest;
  };
  auto acc = std::make_shared<gathered>();
  acc->waiting = self->state.partitions_.size();
  if (acc->waiting == 0) {
    f(std::optional<stream_position>{});
    return;
  }
  auto done = [acc, f]() mutable {
    if (--acc->waiting == 0) {
      f(acc->oldest);
    }
  };
  for (const auto& p : self->state.partitions_) {
    self->request(p, self->state.svc_->config.request_timeout, cursor_atom::value)
        .then(
            [acc, done](uint64_t epoch, uint64_t order) mutable {
              stream_position c{epoch, order};
              if (c.known() && (!acc->oldest || c < *acc->oldest)) {
                acc->oldest = c;
              }
              done();
            },
            [done](caf::error&) mutable { done(); });
  }
}

// -- the remote feed ------------------------------------------------------------------------

/// Ends the remote feed: pending subscribes fail (retryable, the sessions subscribe again) and
/// the exporter is told to stop if it still runs.
void drop_exporter(relay_actor* self, const char* why) {
  auto& st = self->state;
  if (st.exporter_) {
    self->demonitor(st.exporter_);
    self->send_exit(st.exporter_, caf::exit_reason::user_shutdown);
    st.exporter_ = caf::actor{};
  }
  for (auto& [id, p] : st.pending_) {
    p.promise.deliver(dispatch::make_error(dispatch::dispatch_errc::unavailable, why));
  }
  st.pending_.clear();
}

/// Asks the owner's router (found through the owner's membership actor, the router's own
/// lookup) for an exporter of this guild feeding this relay.
template <class F, class Fail>
void attach(relay_actor* self, uint16_t owner, const std::optional<stream_position>& cursor, F f,
            Fail fail) {
  auto& st = self->state;
  auto peer = st.svc_->config.cluster->peer(owner);
  if (!peer) {
    fail(dispatch::make_error(dispatch::dispatch_errc::unavailable,
                              "guild owner (node " + std::to_string(owner) + ") is not connected"));
    return;
  }
  auto timeout = st.svc_->config.request_timeout;
  self->request(peer, timeout, cluster::lookup_service_atom::value, relay_wire::export_service_name)
      .then(
          [self, owner, timeout, cursor, f, fail](caf::strong_actor_ptr& ptr) mutable {
            if (!ptr) {
              fail(dispatch::make_error(
                  dispatch::dispatch_errc::unavailable,
                  "guild owner (node " + std::to_string(owner) + ") has no router"));
              return;
            }
            auto& st = self->state;
            relay_wire::attach_request req{st.guild_id_, st.svc_->config.node_id,
                                           caf::actor_cast<caf::actor>(self),
                                           st.svc_->relay_downlink};
            if (cursor) {
              req.has_cursor = true;
              req.cursor_epoch = cursor->epoch;
              req.cursor_order = cursor->order;
            }
            self->request(caf::actor_cast<caf::actor>(ptr), timeout, std::move(req))
                .then([f](relay_wire::attach_reply& reply) mutable { f(reply); },
                      [fail](caf::error& err) mutable { fail(err); });
          },
          [fail](caf::error& err) mutable { fail(err); });
}

void feed_batch(relay_actor* self, relay_wire::batch& b);

/// Feeds the batches the new exporter sent before its attach reply came (relay_state::early_),
/// in arrival order; drops the others.
void replay_early(relay_actor* self) {
  auto& st = self->state;
  auto early = std::move(st.early_);
  st.early_.clear();
  for (auto& e : early) {
    if (st.exporter_ && e.owner == st.exporter_.node() && e.exporter_id == st.exporter_.id()) {
      feed_batch(self, e.items);
    }
  }
}

void use_exporter(relay_actor* self, uint16_t owner, const relay_wire::attach_reply& reply) {
  auto& st = self->state;
  if (st.guild_) {
    // Fed locally before (this node owned the guild): stop listening to that incarnation.
    self->demonitor(st.guild_);
    st.svc_->relay_groups.leave(st.guild_id_, caf::actor_cast<caf::actor>(self));
    st.guild_ = caf::actor{};
  }
  st.remote_ = true;
  st.owner_ = owner;
  st.exporter_ = reply.exporter;
  st.next_seq_ = 1;
  self->monitor(st.exporter_);
  replay_early(self);
}

// -- (re)connecting -------------------------------------------------------------------------

void reconnect_later(relay_actor* self) {
  auto& st = self->state;
  auto delay =
      std::chrono::milliseconds{std::min<int64_t>(5000, int64_t{50} << std::min(st.attempt_, 7u))};
  ++st.attempt_;
  self->delayed_send(self, delay, reconnect_atom::value);
}

void connect_from(relay_actor* self, const std::optional<stream_position>& cursor);

/// Feeds the (already started) relay again from the guild's owner in this node's view, from
/// its partitions' cursor on (with_cursor).
void reconnect(relay_actor* self) {
  auto& st = self->state;
  if (st.connecting_) {
    return;
  }
  st.connecting_ = true;
  with_cursor(self,
              [self](const std::optional<stream_position>& cursor) { connect_from(self, cursor); });
}

void connect_from(relay_actor* self, const std::optional<stream_position>& cursor) {
  auto& st = self->state;
  auto p = dispatch::place(*st.svc_, st.guild_id_);
  auto failed = [self](const caf::error& err) {
    self->state.connecting_ = false;
    self->state.early_.clear();
    spdlog::warn("relay {}: guild feed unavailable: {}", self->state.guild_id_,
                 dispatch::describe(err));
    reconnect_later(self);
  };
  switch (p.where) {
    case dispatch::placement::kind::local:
      drop_exporter(self, "the guild moved to this node");
      with_guild(
          self,
          [self, cursor](const caf::actor& guild) {
            self->state.connecting_ = false;
            self->state.attempt_ = 0;
            self->state.early_.clear();
            register_with(self, guild, cursor);
          },
          failed);
      return;
    case dispatch::placement::kind::remote:
      attach(
          self, p.owner, cursor,
          [self, owner = p.owner](const relay_wire::attach_reply& reply) {
            self->state.connecting_ = false;
            self->state.attempt_ = 0;
            drop_exporter(self, "the guild's feed changed");
            use_exporter(self, owner, reply);
          },
          failed);
      return;
    case dispatch::placement::kind::unknown:
      failed(dispatch::make_error(dispatch::dispatch_errc::unavailable, "no guild node up"));
      return;
  }
}

void on_down(relay_actor* self, const caf::down_msg& down) {
  auto& st = self->state;
  if (st.exporter_ && down.source == st.exporter_.address()) {
    spdlog::warn("relay {}: the exporter on node {} went down: {}", st.guild_id_, st.owner_,
                 dispatch::describe(down.reason));
    st.exporter_ = caf::actor{};
    drop_exporter(self, "guild owner unreachable");
    reconnect(self);
  } else if (st.guild_ && down.source == st.guild_.address()) {
    st.guild_ = caf::actor{};
    reconnect(self);
  }
}

// Whether the feed still comes from the guild's owner in this node's view; a ring change moves
// it (the new owner's view_reset resynchronises the partitions; events ordered in between by
// no one are not lost, events of the old owner in flight may be: docs/cluster.md). Runs when
// the router reports a ring change (owner_check_atom).
void check_owner(relay_actor* self) {
  auto& st = self->state;
  if (st.connecting_) {
    self->delayed_send(self, owner_recheck_delay, owner_check_atom::value);
    return;
  }
  auto p = dispatch::place(*st.svc_, st.guild_id_);
  bool moved =
      (p.where == dispatch::placement::kind::local && st.remote_) ||
      (p.where == dispatch::placement::kind::remote && (!st.remote_ || p.owner != st.owner_));
  if (moved) {
    spdlog::info("relay {}: the guild's owner changed, feeding from node {}", st.guild_id_,
                 p.owner);
    reconnect(self);
  }
}

// -- the stream -----------------------------------------------------------------------------

caf::error wire_error(const relay_wire::subscriber& sub) {
  auto code =
      sub.errc >= 1 && sub.errc <= static_cast<uint8_t>(dispatch::dispatch_errc::unknown_user)
          ? static_cast<dispatch::dispatch_errc>(sub.errc)
          : dispatch::dispatch_errc::unavailable;
  return dispatch::make_error(code, sub.error);
}

bool from_exporter(relay_actor* self, const caf::node_id& owner, uint64_t exporter_id) {
  const auto& ex = self->state.exporter_;
  return ex && ex.id() == exporter_id && ex.node() == owner;
}

// A section the downlink handed on: exporter `exporter_id` on `owner` sent it.
void on_section(relay_actor* self, const caf::node_id& owner, uint64_t exporter_id,
                relay_wire::batch& b) {
  auto& st = self->state;
  if (!from_exporter(self, owner, exporter_id)) {
    if (st.connecting_ && st.early_.size() < early_batches_max) {
      st.early_.push_back({owner, exporter_id, std::move(b)});  // maybe the new feed's
    }
    return;  // otherwise from a feed this relay dropped
  }
  feed_batch(self, b);
}

void feed_batch(relay_actor* self, relay_wire::batch& b) {
  auto& st = self->state;
  if (b.seq != st.next_seq_) {
    // A batch of this stream was lost (dropped early, or refused by the downlink): the
    // partitions would miss items. A fresh registration starts with a view_reset.
    spdlog::warn("relay {}: batch {} from node {} where {} was due", st.guild_id_, b.seq, st.owner_,
                 st.next_seq_);
    drop_exporter(self, "a gap in the guild owner's stream");
    reconnect(self);
    return;
  }
  ++st.next_seq_;
  decoded_sink sink;
  sink.on_events = [self](std::vector<dispatch_event_ptr>& events) {
    if (events.size() == 1) {
      to_partitions(self, events.front());
    } else {
      auto batch = caf::make_counted<dispatch_batch>();
      batch->events = std::move(events);
      to_partitions(self, dispatch_batch_ptr{std::move(batch)});
    }
  };
  sink.on_view_update = [self](view_update_ptr update) { to_partitions(self, update); };
  sink.on_view_reset = [self](view_reset reset) { to_partitions(self, reset); };
  sink.on_subscriber = [self](relay_wire::subscriber& sub) {
    auto& pending = self->state.pending_;
    auto it = pending.find(sub.session_id);
    if (it == pending.end()) {
      return;  // the session's request timed out and it asked again, or it ended
    }
    auto p = std::move(it->second);
    pending.erase(it);
    if (sub.errc != 0) {
      p.promise.deliver(wire_error(sub));
      return;
    }
    self->send(p.partition, add_subscriber{std::move(p.output), sub.view_class,
                                           std::move(sub.guild_create_tail)});
    p.promise.deliver(caf::ok_atom::value);
  };
  sink.on_notice = [self](const relay_wire::notice& n) {
    auto& st = self->state;
    if (n.joined) {
      st.svc_->user_sessions.dispatch(n.user_id, session::join_guild_atom::value, st.guild_id_);
    } else {
      to_partitions(self, remove_user_atom::value, n.user_id);
      st.svc_->user_sessions.dispatch(n.user_id, session::leave_guild_atom::value, st.guild_id_);
    }
  };
  if (auto err = decode(b, st.guild_id_, sink)) {
    relay_refused_counter().inc();
    spdlog::warn("relay {}: refused a batch from node {}: {}", st.guild_id_, st.owner_, *err);
    drop_exporter(self, "malformed batch from the guild owner");
    reconnect(self);  // a fresh registration starts with a view_reset
  }
}

// Start-up: size the relay from the guild's member count, spawn the
// partitions, join the group (local) or attach to the owner's exporter
// (remote), register. Requests meanwhile stay queued (default handler skip)
// and are handled by ready_behavior in order.
void start_relay(relay_actor* self) {
  self->set_default_handler(caf::skip);
  self->set_down_handler([self](const caf::down_msg& down) { on_down(self, down); });
  auto fail = [self](const caf::error& err) { self->quit(err); };
  auto ready = [self] {
    self->set_default_handler(caf::print_and_drop);
    self->become(ready_behavior(self));
  };
  auto p = dispatch::place(*self->state.svc_, self->state.guild_id_);
  if (p.where == dispatch::placement::kind::unknown) {
    fail(dispatch::make_error(dispatch::dispatch_errc::unavailable, "no guild node up"));
    return;
  }
  if (p.where == dispatch::placement::kind::remote) {
    attach(
        self, p.owner, std::nullopt,
        [self, ready, owner = p.owner](const relay_wire::attach_reply& reply) {
          make_partitions(self, reply.members);
          use_exporter(self, owner, reply);
          ready();
        },
        fail);
    return;
  }
  with_guild(
      self,
      [self, fail, ready](const caf::actor& guild) {
        self->request(guild, self->state.svc_->config.request_timeout, members_atom::value)
            .then(
                [self, guild, ready](uint64_t members) {
                  make_partitions(self, members);
                  register_with(self, guild, std::nullopt);
                  ready();
                },
                fail);
      },
      fail);
}

caf::result<caf::ok_atom> subscribe_remote(relay_actor* self, session::session_output_ptr& output,
                                           const caf::actor& partition) {
  auto& st = self->state;
  if (!st.exporter_) {
    return dispatch::make_error(dispatch::dispatch_errc::unavailable,
                                "guild owner (node " + std::to_string(st.owner_) +
                                    ") unreachable: the relay is reconnecting");
  }
  // One cast per session; the answer (GUILD_CREATE or the refusal) comes back in the stream,
  // ordered with the guild's events. No CAF request per session (see ready_behavior).
  auto promise = self->make_response_promise<caf::ok_atom>();
  auto session_id = output->session_id();
  auto user_id = output->user_id();
  auto& slot = st.pending_[session_id];
  if (slot.promise.pending()) {
    slot.promise.deliver(
        dispatch::make_error(dispatch::dispatch_errc::unavailable, "subscribed again"));
  }
  slot = pending_subscribe{std::move(output), partition, promise};
  self->send(st.exporter_, relay_wire::subscribe_request{session_id, user_id});
  return promise;
}

const caf::actor& partition_for(relay_actor* self, uint64_t session_id) {
  auto& parts = self->state.partitions_;
  return parts[partition_of(session_id, static_cast<uint32_t>(parts.size()))];
}

// Routed through the guild so the subscription is ordered with events.
// Delegated, not requested: the guild answers the session directly, so
// the relay keeps no pending response per subscribing session. (CAF 0.17
// keeps pending responses in a flat vector searched and erased linearly;
// 100,000 sessions subscribing at once cost the relay O(n^2) — seconds of
// CPU stolen from the fan-out.)
caf::result<caf::ok_atom> subscribe_session(relay_actor* self,
                                            session::session_output_ptr& output) {
  auto partition = partition_for(self, output->session_id());
  if (self->state.remote_) {
    return subscribe_remote(self, output, partition);
  }
  auto promise = self->make_response_promise<caf::ok_atom>();
  with_guild(
      self,
      [promise, output, partition](const caf::actor& guild) mutable {
        promise.delegate(guild, subscribe_atom::value, output, partition);
      },
      [promise](const caf::error& err) mutable { promise.deliver(err); });
  return promise;
}

caf::behavior ready_behavior(relay_actor* self) {
  return {
      [self](subscribe_atom, session::session_output_ptr& output) -> caf::result<caf::ok_atom> {
        handled().inc();
        return subscribe_session(self, output);
      },
      [self](subscribe_after_atom, session::session_output_ptr& output,
             uint64_t cursor) -> caf::result<caf::ok_atom> {
        handled().inc();
        // Before the subscribe goes to the guild, so the partition knows it when the guild's
        // add_subscriber (or the remote answer this relay turns into one) arrives.
        self->send(partition_for(self, output->session_id()), migrant_atom::value,
                   output->session_id(), cursor);
        return subscribe_session(self, output);
      },
      [self](migrate_out_atom, uint64_t session_id) {
        handled().inc();
        self->state.pending_.erase(session_id);
        auto partition = partition_for(self, session_id);
        return self->delegate(partition, migrate_out_atom::value, session_id);
      },
      [self](partitions_atom) {
        handled().inc();
        return self->state.partitions_;
      },
      [self](rebind_atom) {
        handled().inc();
        auto promise = self->make_response_promise<std::vector<caf::actor>, uint64_t, uint64_t>();
        with_cursor(self, [self, promise](const std::optional<stream_position>& cursor) mutable {
          auto c = cursor.value_or(stream_position{});
          promise.deliver(self->state.partitions_, c.epoch, c.order);
        });
        return promise;
      },
      [self](unsubscribe_atom, uint64_t session_id) {
        handled().inc();
        auto& parts = self->state.partitions_;
        auto index = partition_of(session_id, static_cast<uint32_t>(parts.size()));
        self->send(parts[index], remove_session_atom::value, session_id);
        self->state.pending_.erase(session_id);
      },
      [self](link_section_atom, const caf::node_id& owner, uint64_t exporter_id,
             relay_wire::batch& b) {
        handled().inc();
        on_section(self, owner, exporter_id, b);
      },
      [self](link_refused_atom, const caf::node_id& owner, uint64_t exporter_id) {
        handled().inc();
        if (from_exporter(self, owner, exporter_id)) {
          // The downlink refused (and counted) a malformed section of this relay's stream.
          drop_exporter(self, "malformed batch from the guild owner");
          reconnect(self);
        }
      },
      [self](reconnect_atom) {
        handled().inc();
        auto& st = self->state;
        if ((st.remote_ && !st.exporter_) || (!st.remote_ && !st.guild_)) {
          reconnect(self);
        } else {
          // A move that failed (the new owner refused, e.g. while its guild is fenced) left the
          // old feed up: try the move again, or the relay stays on a feed nobody orders for.
          check_owner(self);
        }
      },
      [self](owner_check_atom) {
        handled().inc();
        check_owner(self);
      },
      [self](resynced_atom, std::vector<uint64_t>& users) {
        handled().inc();
        // The partition dropped these users' sessions after GUILD_DELETE (unavailable): they
        // subscribe again and get a GUILD_CREATE of the guild as it is now.
        resyncs_counter(resync_cause::failover).inc(users.size());
        for (auto user : users) {
          self->state.svc_->user_sessions.dispatch(user, session::join_guild_atom::value,
                                                   self->state.guild_id_);
        }
      },
  };
}

}  // namespace

caf::expected<caf::actor> spawn_relay(const dispatch::services_ptr& svc, uint64_t guild_id) {
  return svc->system.spawn([svc, guild_id](relay_actor* self) -> caf::behavior {
    self->state.svc_ = svc;
    self->state.guild_id_ = guild_id;
    if (svc->config.cluster) {
      // Before start_relay places the guild: a ring change from then on reaches this relay
      // (queued until it is ready).
      svc->ring_watchers.join(dispatch::services::ring_watch_group,
                              caf::actor_cast<caf::actor>(self));
    }
    start_relay(self);
    return {};
  });
}

}  // namespace herald::relay
