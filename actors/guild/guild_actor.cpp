// SPDX-License-Identifier: Apache-2.0
#include "actors/guild/guild_actor.hpp"

#include <chrono>
#include <optional>
#include <vector>

#include <spdlog/spdlog.h>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/encoding/encode.hpp"
#include "actors/guild/event_pipeline.hpp"
#include "actors/guild/view_classes.hpp"
#include "actors/relay/relay_messages.hpp"
#include "actors/services/dispatch_error.hpp"
#include "actors/services/membership_messages.hpp"
#include "actors/services/store_error_mapping.hpp"
#include "runtime/metrics/actor_metrics.hpp"

namespace herald::guild {

namespace {

using flush_atom = caf::atom_constant<caf::atom("flush")>;

struct relay_entry {
  caf::actor relay;
  std::vector<caf::actor> partitions;
};

/// An event applied to memory whose writes wait in the batch.
struct pending_event {
  prepared_event prepared;
  caf::intrusive_ptr<relay::view_update> view;  // null unless visibility changed
  uint64_t order = 0;
  caf::response_promise promise;
};

struct guild_actor_state {
  dispatch::services_ptr svc_;
  std::optional<domain::guild_state> state_;
  std::optional<view_classes> views_;
  std::vector<relay_entry> relays_;
  uint64_t order_ = 0;  // last guild order handed out
  store::write_batch batch_;
  std::vector<pending_event> pending_;  // in guild order; writes in batch_
  // GUILD_CREATE cache: rebuilt after any state change.
  std::optional<encoding::guild_create_encoder> guild_create_;
  std::unordered_map<uint32_t, std::string> channels_by_class_;

  ~guild_actor_state() {
    // Staged events die with this incarnation (nothing was committed): their
    // producers get an explicit, retryable error instead of a timeout.
    for (auto& p : pending_) {
      p.promise.deliver(dispatch::make_error(dispatch::dispatch_errc::unavailable,
                                             "guild stopped before commit"));
    }
  }
  static inline const char* name = "guild";
};

using guild_actor = caf::stateful_actor<guild_actor_state>;

metrics::histogram& commit_batch_histogram() {
  static auto& h = metrics::registry::global().get_histogram(
      "herald_guild_commit_batch_events", "Events per guild group commit", {},
      {1, 2, 4, 8, 16, 32, 64, 128, 256, 512});
  return h;
}

metrics::counter& handled() {
  static auto& c = metrics::messages_handled("guild");
  return c;
}

metrics::counter& published_counter() {
  static auto& c = metrics::registry::global().get_counter(
      "herald_guild_events_total", "Events persisted and dispatched by guild actors");
  return c;
}

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

template <class... Ts>
void to_all_partitions(guild_actor* self, const Ts&... xs) {
  for (const auto& r : self->state.relays_) {
    for (const auto& p : r.partitions) {
      self->send(p, xs...);
    }
  }
}

void invalidate_guild_create(guild_actor_state& st) {
  st.guild_create_.reset();
  st.channels_by_class_.clear();
}

// Tails for a visibility change: CHANNEL_CREATE for channels that exist,
// CHANNEL_DELETE from the state (or the deleted channel's saved tail).
caf::intrusive_ptr<relay::view_update> make_view_update(guild_actor_state& st, view_change change,
                                                        const prepared_event& ev) {
  auto update = caf::make_counted<relay::view_update>();
  update->view = change.snapshot;
  update->class_changes = std::move(change.class_changes);
  for (uint32_t slot : change.changed_slots) {
    std::string create_tail;
    std::string delete_tail;
    uint64_t channel_id = change.channel_of_slot(slot);
    if (const auto* ch = st.state_->find_channel(channel_id)) {
      create_tail = encoding::channel_create_tail(*ch);
      delete_tail = encoding::channel_delete_tail(*ch);
    } else {
      for (const auto& [id, tail] : ev.deleted_channels) {
        if (id == channel_id) {
          delete_tail = tail;
        }
      }
    }
    update->changed_slots.push_back(slot);
    update->create_tails.push_back(std::move(create_tail));
    update->delete_tails.push_back(std::move(delete_tail));
  }
  return update;
}

void flush(guild_actor* self);

// Validates and applies one event, staging it for the next group commit.
caf::result<publish_ack> stage(guild_actor* self, const proto::event& event) {
  auto& st = self->state;
  auto slot_of = [&st](uint64_t channel_id) { return st.views_->slot_of(channel_id); };
  auto prepared = prepare_event(*st.state_, *st.svc_->store, event, slot_of, st.batch_, now_ms());
  if (!prepared) {
    return prepared.error();
  }
  pending_event pending;
  pending.prepared = std::move(*prepared);
  if (pending.prepared.view_changed) {
    auto change = st.views_->recompute(*st.state_, pending.prepared.touched_users);
    if (!change.changed_slots.empty() || !change.class_changes.empty()) {
      pending.view = make_view_update(st, std::move(change), pending.prepared);
    }
    invalidate_guild_create(st);
  }
  pending.order = ++st.order_;
  if (pending.prepared.dispatch) {
    pending.prepared.dispatch->guild_order = pending.order;
  }
  pending.promise = self->make_response_promise();
  auto promise = pending.promise;
  bool first = st.pending_.empty();
  st.pending_.push_back(std::move(pending));
  if (first) {
    // Everything already in the mailbox joins this commit.
    self->send(self, flush_atom::value);
  }
  if (st.pending_.size() >= st.svc_->config.max_commit_batch) {
    flush(self);  // bounded batches keep commit latency bounded under load
  }
  return caf::delegated<publish_ack>{};
}

// Sends the events gathered so far, in order: one message per partition for
// the whole run (a batch when there are several), so a burst costs each
// partition one message and each session one lock per group commit.
void send_events(guild_actor* self, std::vector<relay::dispatch_event_ptr>& events) {
  if (events.size() == 1) {
    to_all_partitions(self, events.front());
  } else if (!events.empty()) {
    auto batch = caf::make_counted<relay::dispatch_batch>();
    batch->events = std::move(events);
    to_all_partitions(self, relay::dispatch_batch_ptr{std::move(batch)});
  }
  events.clear();
}

// Queues one committed event's dispatch in `events`; anything else it sends
// to partitions (views, removals) first flushes `events` to keep guild order.
void dispatch_pending(guild_actor* self, pending_event& p,
                      std::vector<relay::dispatch_event_ptr>& events) {
  auto& st = self->state;
  if (p.view) {
    send_events(self, events);
    to_all_partitions(self, relay::view_update_ptr{p.view});
  }
  if (p.prepared.dispatch) {
    events.emplace_back(p.prepared.dispatch);
  }
  if (!p.prepared.removed_users.empty()) {
    send_events(self, events);
  }
  for (auto user : p.prepared.removed_users) {
    to_all_partitions(self, relay::remove_user_atom::value, user);
    st.svc_->user_sessions.dispatch(user, session::leave_guild_atom::value, st.state_->id());
  }
  for (auto user : p.prepared.added_users) {
    st.svc_->user_sessions.dispatch(user, session::join_guild_atom::value, st.state_->id());
  }
}

// Commits the batch, then dispatches every staged event in order (consecutive
// dispatches as one batch per partition) and acknowledges them. On a store failure every producer
// gets persist_failed and the actor exits so that its supervisor reloads the committed state.
void flush(guild_actor* self) {
  auto& st = self->state;
  if (st.pending_.empty()) {
    return;
  }
  commit_batch_histogram().observe(static_cast<double>(st.pending_.size()));
  auto committed = st.batch_.empty() ? store::result<void>{} : st.svc_->store->apply(st.batch_);
  st.batch_.clear();
  auto pending = std::move(st.pending_);
  st.pending_.clear();
  if (!committed) {
    auto err = dispatch::from_commit_error(committed.error());
    // Unregister before answering, or a producer retrying at once finds this
    // dying incarnation and gets request_receiver_down instead of a new one.
    st.svc_->guilds.unregister(st.state_->id(), caf::actor_cast<caf::actor>(self));
    for (auto& p : pending) {
      p.promise.deliver(err);
    }
    spdlog::error("guild {}: commit failed, restarting from the store: {}", st.state_->id(),
                  dispatch::describe(err));
    self->quit(err);
    return;
  }
  std::vector<relay::dispatch_event_ptr> events;
  for (auto& p : pending) {
    dispatch_pending(self, p, events);
  }
  send_events(self, events);
  // Acknowledged once every event is on its way to the partitions.
  for (auto& p : pending) {
    p.promise.deliver(publish_ack{p.order, std::move(p.prepared.reply_json)});
  }
  published_counter().inc(pending.size());
}

void add_relay(guild_actor* self, caf::actor relay, std::vector<caf::actor> partitions) {
  auto& st = self->state;
  for (auto& r : st.relays_) {
    if (r.relay == relay) {
      return;
    }
  }
  self->monitor(relay);
  relay::view_reset reset{st.views_->snapshot(), st.views_->class_map()};
  for (const auto& p : partitions) {
    self->send(p, reset);
  }
  st.relays_.push_back({std::move(relay), std::move(partitions)});
}

caf::result<caf::ok_atom> subscribe(guild_actor* self, session::session_output_ptr output,
                                    caf::actor partition) {
  auto& st = self->state;
  const auto user = output->user_id();
  auto member = st.state_->members().find(user);
  if (member == st.state_->members().end()) {
    return dispatch::make_error(dispatch::dispatch_errc::not_member, std::to_string(user));
  }
  uint32_t cls = st.views_->class_of(user);
  if (!st.guild_create_) {
    st.guild_create_.emplace(*st.state_, st.svc_->config.large_threshold);
  }
  auto cached = st.channels_by_class_.find(cls);
  if (cached == st.channels_by_class_.end()) {
    cached = st.channels_by_class_
                 .emplace(cls, st.guild_create_->channels_json(st.views_->visible_channels(cls)))
                 .first;
  }
  self->send(partition,
             relay::add_subscriber{std::move(output), cls,
                                   st.guild_create_->tail_for(member->second, cached->second)});
  return caf::ok_atom::value;
}

caf::behavior guild_behavior(guild_actor* self) {
  self->set_down_handler([self](const caf::down_msg& down) {
    auto& relays = self->state.relays_;
    relays.erase(
        std::remove_if(relays.begin(), relays.end(),
                       [&](const relay_entry& r) { return r.relay.address() == down.source; }),
        relays.end());
  });
  return {
      [self](publish_atom, const proto::event& event) {
        handled().inc();
        return stage(self, event);
      },
      [self](flush_atom) {
        handled().inc();
        flush(self);
      },
      // Every other request first commits what is staged, so that snapshots
      // (sizes, views, GUILD_CREATE) never show uncommitted state.
      [self](relay::members_atom) {
        handled().inc();
        flush(self);
        return static_cast<uint64_t>(self->state.state_->member_count());
      },
      [self](relay::register_atom, caf::actor relay, std::vector<caf::actor> partitions) {
        handled().inc();
        flush(self);
        add_relay(self, std::move(relay), std::move(partitions));
      },
      [self](relay::subscribe_atom, session::session_output_ptr output, caf::actor partition) {
        handled().inc();
        flush(self);
        return subscribe(self, std::move(output), std::move(partition));
      },
  };
}

// A restarted guild first re-binds the relays that survived its previous
// incarnation, before it takes any event (await suspends other messages).
void rebind_surviving_relays(guild_actor* self) {
  auto& st = self->state;
  for (auto& relay : st.svc_->relay_groups.members(st.state_->id())) {
    self->request(relay, st.svc_->config.request_timeout, relay::partitions_atom::value)
        .await(
            [self, relay](std::vector<caf::actor>& partitions) {
              add_relay(self, relay, std::move(partitions));
            },
            [self](caf::error& err) {
              spdlog::warn("guild {}: a relay did not answer: {}", self->state.state_->id(),
                           dispatch::describe(err));
            });
  }
}

}  // namespace

caf::expected<caf::actor> spawn_guild(const dispatch::services_ptr& svc, uint64_t guild_id) {
  auto loaded = svc->store->load_guild(guild_id);
  if (!loaded) {
    return dispatch::from_store_error(
        loaded.error(),
        dispatch::make_error(dispatch::dispatch_errc::unknown_guild, std::to_string(guild_id)));
  }
  auto state = std::make_shared<domain::guild_state>(std::move(loaded.value()));
  return svc->system.spawn([svc, state](guild_actor* self) -> caf::behavior {
    auto& st = self->state;
    st.svc_ = svc;
    st.state_.emplace(std::move(*state));
    st.views_.emplace(*st.state_);
    rebind_surviving_relays(self);
    return guild_behavior(self);
  });
}

}  // namespace herald::guild
