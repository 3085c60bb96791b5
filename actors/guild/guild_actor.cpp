// SPDX-License-Identifier: Apache-2.0
#include "actors/guild/guild_actor.hpp"

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include <spdlog/spdlog.h>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/encoding/encode.hpp"
#include "actors/guild/core_observation.hpp"
#include "actors/guild/event_pipeline.hpp"
#include "actors/guild/event_tail.hpp"
#include "actors/guild/view_classes.hpp"
#include "actors/relay/relay_messages.hpp"
#include "actors/services/dispatch_error.hpp"
#include "actors/services/membership_messages.hpp"
#include "actors/services/placement.hpp"
#include "actors/services/store_error_mapping.hpp"
#include "runtime/metrics/actor_metrics.hpp"

namespace herald::guild {

namespace {

using flush_atom = caf::atom_constant<caf::atom("flush")>;
/// (committed_atom, code, error text): the store writer's answer for this guild's batch in
/// flight: code committed_ok, or the store_errc of the failure (e.g. in_doubt). Sent by the
/// writer thread (anon_send) or by the actor itself for a batch without writes.
using committed_atom = caf::atom_constant<caf::atom("committed")>;
constexpr uint8_t committed_ok = 0xff;
/// Sent to itself by a new incarnation: dispatch what the predecessor could not (inherited_).
using inherited_atom = caf::atom_constant<caf::atom("inherited")>;
/// Pause before handing a staged batch to the writer again after it refused it (queue full).
constexpr std::chrono::milliseconds writer_busy_retry{2};

struct relay_entry {
  caf::actor relay;
  std::vector<caf::actor> partitions;
  /// An exporter (relay/exporter.hpp: a relay that is its own single partition) feeds a relay
  /// on another node: it also gets member_joined_atom, since that node's sessions hear of
  /// joins only through it.
  bool exporter = false;
};

/// An event applied to memory whose writes wait in the batch.
struct pending_event {
  prepared_event prepared;
  caf::intrusive_ptr<relay::view_update> view;  // null unless visibility changed
  uint64_t order = 0;
  caf::response_promise promise;
  /// For the features observing its kind (null: nobody does), delivered after its ack.
  std::unique_ptr<dispatch::core_event> observed;
  /// The message it deletes (0: none), in guild_actor_state::deleting_ until committed.
  uint64_t deleted_message = 0;
  /// Stored in the event tail when its batch commits: it has a dispatch and is not ephemeral
  /// (TYPING_START is not stored, nor is any event of a batch that writes nothing).
  bool tailed = false;
  /// How the tail keeps it: a message create or update by the message's id (its row is written
  /// in the same batch), anything else as its whole frame.
  tail_kind tail_as = tail_kind::frame;
  uint64_t tail_message = 0;
};

/// What the guild and the writer's completion share about the batch in flight, so that a batch
/// whose guild incarnation dies before the writer's answer is still dispatched exactly once: by
/// the successor (services::handoff), if and only if it committed. Guarded by `mutex`; the
/// guild thread and the writer thread each take it once.
struct flight_record {
  std::mutex mutex;
  std::optional<bool> committed;  // the writer's answer, once it ran
  bool orphaned = false;          // the incarnation died first; `events` holds its dispatches
  std::vector<relay::dispatch_event_ptr> events;
};

/// The handoff item (services::guild_handoff): committed dispatches, in guild order.
using orphaned_events = std::vector<relay::dispatch_event_ptr>;

void hand_off(dispatch::services& svc, uint64_t guild_id,
              std::vector<relay::dispatch_event_ptr> events) {
  if (!events.empty()) {
    svc.handoff.put(guild_id, std::make_shared<orphaned_events>(std::move(events)));
  }
}

struct guild_actor_state {
  dispatch::services_ptr svc_;
  std::optional<domain::guild_state> state_;
  std::optional<view_classes> views_;
  std::vector<relay_entry> relays_;
  // The owner epoch this incarnation claimed in the store (store::claim_guild): every batch it
  // commits carries it, and the store refuses the batch (fenced) once another claim replaced it.
  uint64_t epoch_ = 0;
  // Last guild order handed out; starts at the store's last committed order, so the guild's
  // order goes on across incarnations and nodes.
  uint64_t order_ = 0;
  // The position of the guild's last event handed to the writer in a tail row
  // (store::tail_event): the predecessor of the next row's first event. At start the store's
  // newest tail row's, or relay::unknown_position when events were committed before the tail had
  // any.
  relay::stream_position tail_prev_;
  // Counts the guild's tail rows: the next one takes slot tail_rows_ % event_tail_orders, so the
  // tail keeps the guild's last event_tail_orders batches. At start the newest row's slot + 1.
  uint64_t tail_rows_ = 0;
  // Group commit through services::writer, at most one batch in flight (so guild order is commit
  // order): events are applied to memory and staged (pending_, writes in batch_); a flush hands
  // the staged batch to the writer (in_flight_); staging goes on meanwhile; the writer's answer
  // (committed_atom) dispatches and acknowledges in_flight_, then the next staged batch goes.
  store::write_batch batch_;
  std::vector<pending_event> pending_;    // staged, in guild order; writes in batch_
  std::vector<pending_event> in_flight_;  // with the writer, in guild order
  bool committing_ = false;               // a batch (maybe without writes) awaits its answer
  std::shared_ptr<flight_record>
      flight_;  // of the batch with the writer (null: none, or no writes)
  // Dispatches a predecessor could not send (it died with them in flight; they committed):
  // sent first, once the surviving relays are bound again.
  std::vector<relay::dispatch_event_ptr> inherited_;
  bool retry_armed_ = false;  // a flush after a busy writer is scheduled
  // The ring moved the guild to node handoff_to_ (ring_changed_atom): no new producers; the
  // incarnation stops once what it staged and has in flight is committed and dispatched.
  bool handing_off_ = false;
  uint16_t handoff_to_ = 0;
  // The new owner's requests (handoff_atom) waiting for the handoff to settle.
  std::vector<caf::response_promise> handoff_waiters_;
  // Messages that must see a settled guild (members, register, subscribe: memory == committed
  // == dispatched) and every message after them, in arrival order: they wait here while staged
  // or in-flight events exist, and run once those are committed and dispatched.
  struct held_message {
    bool needs_settled;
    caf::response_promise promise;
    std::function<void(caf::response_promise&)> run;
  };
  std::deque<held_message> held_;
  // Messages whose delete is staged or in flight: a feature event about one of them, ordered
  // after the delete, is refused (unknown_message) although the store still has the message.
  pending_deletes deleting_;
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
    // The writer still commits (or fails) the batch in flight; its answer finds no actor. The
    // next incarnation loads only after that (writer->wait_idle in spawn_guild) and dispatches
    // the events if they committed (flight_record, services::handoff): once, never twice.
    if (flight_ && !in_flight_.empty()) {
      std::vector<relay::dispatch_event_ptr> events;
      for (auto& p : in_flight_) {
        if (p.prepared.dispatch) {
          events.push_back(p.prepared.dispatch);
        }
      }
      std::lock_guard<std::mutex> guard{flight_->mutex};
      if (flight_->committed.has_value()) {
        if (*flight_->committed) {
          hand_off(*svc_, state_->id(), std::move(events));
        }
      } else {
        flight_->orphaned = true;
        flight_->events = std::move(events);
      }
    }
    for (auto& p : in_flight_) {
      p.promise.deliver(dispatch::make_error(
          dispatch::dispatch_errc::unavailable,
          "guild stopped while its commit was in flight: if the commit succeeded the event is "
          "stored and the restarted guild dispatches it"));
    }
    for (auto& h : held_) {
      if (!h.promise.pending()) {
        continue;  // a plain send (register) expects no answer
      }
      h.promise.deliver(dispatch::make_error(dispatch::dispatch_errc::unavailable,
                                             "guild stopped before handling the request"));
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

metrics::counter& busy_counter() {
  static auto& c = metrics::registry::global().get_counter(
      "herald_guild_busy_total",
      "Publishes refused with a retryable busy error because the store writer's queue is full");
  return c;
}

metrics::counter& claims_counter() {
  static auto& c = metrics::registry::global().get_counter(
      "herald_guild_claims_total",
      "Guild starts that claimed the guild in the store (raised its owner epoch)");
  return c;
}

metrics::counter& fenced_counter() {
  static auto& c = metrics::registry::global().get_counter(
      "herald_guild_fenced_commits_total",
      "Guild commits the store refused because another node claimed the guild (fenced)");
  return c;
}

metrics::counter& handoffs_counter() {
  static auto& c = metrics::registry::global().get_counter(
      "herald_guild_handoffs_total",
      "Guild actors stopped in order because the ring moved their guild to another live node "
      "(handoff: staged and in-flight events committed first, nothing fenced)");
  return c;
}

metrics::counter& replayed_counter() {
  static auto& c = metrics::registry::global().get_counter(
      "herald_guild_tail_replayed_events_total",
      "Events guild actors replayed from their persisted event tail to a relay or exporter that "
      "registered with a cursor (fed by an earlier owner up to it)");
  return c;
}

metrics::counter& failovers_counter() {
  static auto& c = metrics::registry::global().get_counter(
      "herald_guild_failovers_total",
      "Guild claims on this node that took the guild from another node without a handoff (the "
      "store named a node that was not connected)");
  return c;
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

// The staged batch's tail row: every tailed dispatch of it, in order, in one row whose position
// is the last one's and whose predecessor is the guild's last tailed event before the batch.
// nullopt when the batch has none, or the guild keeps no tail.
std::optional<store::tail_event> tail_row_of(const guild_actor_state& st) {
  const uint64_t size = st.svc_->config.event_tail_orders;
  if (size == 0) {
    return std::nullopt;
  }
  tail_row_writer events;
  uint64_t last = 0;
  for (const auto& p : st.pending_) {
    if (!p.tailed) {
      continue;
    }
    if (p.tail_as == tail_kind::frame) {
      const auto& ev = *p.prepared.dispatch;
      events.add_frame(p.order, ev, st.views_->channel_at(ev.channel_slot));
    } else {
      events.add_message(p.order, p.tail_as, p.tail_message);
    }
    last = p.order;
  }
  if (events.events() == 0) {
    return std::nullopt;
  }
  store::tail_event row;
  row.epoch_ = st.epoch_;
  row.order_ = last;
  row.prev_epoch_ = st.tail_prev_.epoch;
  row.prev_order_ = st.tail_prev_.order;
  row.slot_ = static_cast<uint32_t>(st.tail_rows_ % size);
  row.event_ = events.take();
  return row;
}

// Validates and applies one event, staging it for the next group commit; answers `promise`
// when it is committed and dispatched, or with its error.
void stage(guild_actor* self, const proto::event& event, caf::response_promise& promise) {
  auto& st = self->state;
  if (st.handing_off_) {
    // Nothing new after the handoff began: the producer retries on the new owner, which orders
    // the event after everything this incarnation committed.
    promise.deliver(
        dispatch::make_error(dispatch::dispatch_errc::unavailable,
                             "guild " + std::to_string(st.state_->id()) + " is moving to node " +
                                 std::to_string(st.handoff_to_) + ": this node hands it off"));
    return;
  }
  // Admission control: an event applied to memory cannot be taken back, so a full writer queue
  // refuses new events before they change anything.
  if (!st.svc_->writer->has_room()) {
    busy_counter().inc();
    promise.deliver(dispatch::make_error(dispatch::dispatch_errc::unavailable,
                                         "busy: the store writer's queue is full"));
    return;
  }
  auto slot_of = [&st](uint64_t channel_id) { return st.views_->slot_of(channel_id); };
  auto prepared = prepare_event(*st.state_, *st.svc_->store, event, slot_of, st.batch_, now_ms(),
                                &st.deleting_);
  if (!prepared) {
    promise.deliver(prepared.error());
    return;
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
    pending.prepared.dispatch->epoch = st.epoch_;
    pending.tailed = event.payload_case() != proto::event::kTypingStart;
    if (event.payload_case() == proto::event::kMessageCreate && event.message_create().id() != 0) {
      pending.tail_as = tail_kind::message_create;
      pending.tail_message = event.message_create().id();
    } else if (event.payload_case() == proto::event::kMessageUpdate &&
               event.message_update().id() != 0) {
      pending.tail_as = tail_kind::message_update;
      pending.tail_message = event.message_update().id();
    }
  }
  pending.promise = promise;
  pending.observed = observed_event(st.svc_->observers, event, st.state_->id());
  if (pending.observed) {
    pending.observed->guild_order = pending.order;
  }
  if ((pending.deleted_message = deleted_message_of(event)) != 0) {
    st.deleting_.insert(pending.deleted_message);
  }
  bool first = st.pending_.empty();
  st.pending_.push_back(std::move(pending));
  if (first && !st.committing_) {
    // Everything already in the mailbox joins this commit.
    self->send(self, flush_atom::value);
  }
  if (st.pending_.size() >= st.svc_->config.max_commit_batch) {
    flush(self);  // bounded batches keep commit latency bounded under load
  }
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
  // A removal's view goes after the removal: it changes only the removed user's class, and
  // that user's sessions leave with GUILD_MEMBER_REMOVE and GUILD_DELETE, never with
  // CHANNEL_DELETEs of a class they no longer have (the event itself is not channel-filtered).
  const bool removal = !p.prepared.removed_users.empty();
  if (p.view && !removal) {
    send_events(self, events);
    to_all_partitions(self, relay::view_update_ptr{p.view});
  }
  if (p.prepared.dispatch) {
    events.emplace_back(p.prepared.dispatch);
  }
  if (removal) {
    send_events(self, events);
  }
  for (auto user : p.prepared.removed_users) {
    to_all_partitions(self, relay::remove_user_atom::value, user);
    st.svc_->user_sessions.dispatch(user, session::leave_guild_atom::value, st.state_->id());
  }
  if (p.view && removal) {
    to_all_partitions(self, relay::view_update_ptr{p.view});
  }
  for (auto user : p.prepared.added_users) {
    st.svc_->user_sessions.dispatch(user, session::join_guild_atom::value, st.state_->id());
  }
  if (!p.prepared.added_users.empty()) {
    bool flushed = false;
    for (const auto& r : st.relays_) {
      if (!r.exporter) {
        continue;
      }
      if (!flushed) {
        send_events(self, events);  // the join after the events ordered before it
        flushed = true;
      }
      for (auto user : p.prepared.added_users) {
        self->send(r.relay, relay::member_joined_atom::value, user);
      }
    }
  }
}

void on_committed(guild_actor* self, const std::optional<store::store_error>& failure);

// Hands the staged batch to the writer unless one is in flight (at most one per guild: guild
// order is commit order). The writer answers with committed_atom from its thread.
void flush(guild_actor* self) {
  auto& st = self->state;
  if (st.committing_ || st.pending_.empty()) {
    return;
  }
  const auto events = st.pending_.size();
  if (st.batch_.empty()) {
    // Nothing to write (e.g. a refused change applied nothing durable): answer in order, through
    // the mailbox like the writer would.
    st.in_flight_ = std::move(st.pending_);
    st.pending_.clear();
    st.committing_ = true;
    self->send(self, committed_atom::value, committed_ok, std::string{});
    return;
  }
  // Commits only while this incarnation's claim is the guild's latest, and records the order.
  st.batch_.set_fence({st.state_->id(), st.epoch_, st.pending_.back().order});
  // Built anew on every attempt: a flush the busy writer refused is retried with the same batch
  // and whatever was staged since, still as one row.
  st.batch_.clear_tail();
  std::optional<relay::stream_position> tailed_to;
  if (auto row = tail_row_of(st)) {
    tailed_to = position_of(*row);
    st.batch_.add_tail(std::move(*row));
  }
  auto me = caf::actor_cast<caf::actor>(self);
  auto record = std::make_shared<flight_record>();
  auto submitted = st.svc_->writer->submit(
      st.state_->id(), std::move(st.batch_), events,
      [me, record, svc = st.svc_.get(), guild_id = st.state_->id()](const store::result<void>& r) {
        {
          std::lock_guard<std::mutex> guard{record->mutex};
          record->committed = r.ok();
          if (record->orphaned && r.ok()) {
            hand_off(*svc, guild_id, std::move(record->events));
          }
        }
        if (r) {
          caf::anon_send(me, committed_atom::value, committed_ok, std::string{});
        } else {
          caf::anon_send(me, committed_atom::value, static_cast<uint8_t>(r.error().code_),
                         r.error().message_);
        }
      });
  if (!submitted) {
    if (submitted.error().code_ == store::store_errc::busy) {
      // The queue filled between admission and now: keep everything staged and try again soon
      // (new publishes are refused meanwhile, so this wait is bounded by the writer's progress).
      if (!st.retry_armed_) {
        st.retry_armed_ = true;
        self->delayed_send(self, writer_busy_retry, flush_atom::value);
      }
      return;
    }
    // The writer is stopped: nothing staged can be made durable.
    st.in_flight_ = std::move(st.pending_);
    st.pending_.clear();
    st.committing_ = true;
    on_committed(self, submitted.error());
    return;
  }
  if (tailed_to) {
    st.tail_prev_ = *tailed_to;
    ++st.tail_rows_;
  }
  st.batch_ = store::write_batch{};
  st.in_flight_ = std::move(st.pending_);
  st.pending_.clear();
  st.committing_ = true;
  st.flight_ = std::move(record);
  commit_batch_histogram().observe(static_cast<double>(events));
}

void run_held(guild_actor* self);
void finish_handoff(guild_actor* self);

uint64_t ring_generation(const dispatch::services& svc) {
  return svc.config.cluster ? svc.config.cluster->current_ring()->generation() : 0;
}

// Another node claimed the guild: this incarnation no longer owns it. It is not started again
// here until this node's ring changes or the fence hold passes (services::fences), so nodes
// whose rings disagree for a moment do not take the guild from each other in a loop.
void fence_out(guild_actor* self, const store::store_error& failure) {
  auto& st = self->state;
  fenced_counter().inc();
  const auto& cfg = st.svc_->config;
  auto hold = st.svc_->fences.fenced(st.state_->id(), ring_generation(*st.svc_),
                                     dispatch::guild_fences::clock::now(), failure.message_,
                                     cfg.fence_hold_first, cfg.fence_hold);
  spdlog::warn(
      "guild {}: another node took the guild (owner epoch {} is no longer the store's); "
      "stopping here, not restarted on this node for {} ms unless the ring changes",
      st.state_->id(), st.epoch_,
      std::chrono::duration_cast<std::chrono::milliseconds>(hold).count());
}

// The writer's answer for in_flight_: dispatches every event of it in order (consecutive
// dispatches as one batch per partition) and acknowledges them. On a store failure every
// producer (in flight and staged) gets persist_failed (unavailable when the commit was fenced)
// and the actor exits; the next request reloads the committed state (a fenced guild: only once
// its fence hold is over, fence_out).
void on_committed(guild_actor* self, const std::optional<store::store_error>& failure) {
  auto& st = self->state;
  st.committing_ = false;
  st.flight_.reset();
  auto done = std::move(st.in_flight_);
  st.in_flight_.clear();
  for (const auto& p : done) {
    if (p.deleted_message != 0) {
      st.deleting_.erase(st.deleting_.find(p.deleted_message));
    }
  }
  if (failure) {
    // persist_failed (retryable), or store_error for an in-doubt commit (not retried as new).
    auto err = dispatch::from_commit_error(*failure);
    if (failure->code_ == store::store_errc::fenced) {
      fence_out(self, *failure);  // before unregistering: a retry must not start it here again
    }
    // Unregister before answering, or a producer retrying at once finds this
    // dying incarnation and gets request_receiver_down instead of a new one.
    st.svc_->guilds.unregister(st.state_->id(), caf::actor_cast<caf::actor>(self));
    for (auto& p : done) {
      p.promise.deliver(err);
    }
    // Staged events sit on top of the failed ones in memory: they cannot commit either.
    for (auto& p : st.pending_) {
      p.promise.deliver(err);
    }
    st.pending_.clear();
    st.batch_.clear();
    if (failure->code_ != store::store_errc::fenced) {
      spdlog::error("guild {}: commit failed, restarting from the store: {}", st.state_->id(),
                    dispatch::describe(err));
    }
    self->quit(err);
    return;
  }
  std::vector<relay::dispatch_event_ptr> events;
  for (auto& p : done) {
    dispatch_pending(self, p, events);
  }
  send_events(self, events);
  // Acknowledged once every event is on its way to the partitions. Observers get an observed
  // event after the acks of the events ordered before it and before its own (core_events.hpp).
  for (auto& p : done) {
    if (p.observed) {
      st.svc_->observers.deliver(*p.observed);
    }
    publish_ack ack;
    ack.guild_order = p.order;
    if (!p.prepared.reply_json.empty() || !p.prepared.dispatch) {
      ack.json = std::move(p.prepared.reply_json);
    } else {
      ack.tail = p.prepared.dispatch->full_tail;  // one reference, no copy
    }
    p.promise.deliver(std::move(ack));
  }
  published_counter().inc(done.size());
  flush(self);  // what was staged meanwhile goes next
  run_held(self);
  finish_handoff(self);
}

// Whether memory, store and dispatch agree: nothing staged, nothing in flight.
bool settled(const guild_actor_state& st) {
  return st.pending_.empty() && !st.committing_;
}

// A handing-off guild that is settled (everything it accepted committed and dispatched, no
// message held) stops normally: its exporters end with it, relays here see it go and follow the
// ring to the new owner, which claims the guild and continues after the last committed order.
// Not put in services::fences: the ring already names another node here.
void finish_handoff(guild_actor* self) {
  auto& st = self->state;
  if (!st.handing_off_ || !settled(st) || !st.held_.empty()) {
    return;
  }
  handoffs_counter().inc();
  spdlog::info("guild {}: handed off to node {} (owner epoch {}, last order {}): the ring moved it",
               st.state_->id(), st.handoff_to_, st.epoch_, st.order_);
  st.svc_->guilds.unregister(st.state_->id(), caf::actor_cast<caf::actor>(self));
  for (auto& waiter : st.handoff_waiters_) {
    waiter.deliver(caf::ok_atom::value);
  }
  st.handoff_waiters_.clear();
  self->quit();
}

// No new producers from now on; what was accepted commits, then finish_handoff stops the guild.
void begin_handoff(guild_actor* self, uint16_t new_owner) {
  auto& st = self->state;
  if (st.handing_off_) {
    return;
  }
  st.handing_off_ = true;
  st.handoff_to_ = new_owner;
  spdlog::info("guild {}: moving to node {}; handing off after {} staged and {} in-flight events",
               st.state_->id(), new_owner, st.pending_.size(), st.in_flight_.size());
  flush(self);
}

// The router saw a new ring: when it names another node as the guild's owner, begin the
// handoff (no new producers, commit what was accepted, then stop: finish_handoff).
void check_owner(guild_actor* self) {
  auto& st = self->state;
  if (st.handing_off_) {
    return;
  }
  auto p = dispatch::place(*st.svc_, st.state_->id());
  if (p.where != dispatch::placement::kind::remote) {
    return;  // still ours, or no guild node up at all: keep ordering
  }
  begin_handoff(self, p.owner);
  finish_handoff(self);
}

// Runs held messages in arrival order until one needs a settled guild that is not settled yet.
void run_held(guild_actor* self) {
  auto& st = self->state;
  while (!st.held_.empty()) {
    auto& next = st.held_.front();
    if (next.needs_settled && !settled(st)) {
      flush(self);
      return;
    }
    auto h = std::move(next);
    st.held_.pop_front();
    h.run(h.promise);
  }
}

// Whether a message must wait in held_: something before it waits, or it needs a settled guild
// that is not settled yet.
bool must_hold(const guild_actor_state& st, bool needs_settled) {
  return !st.held_.empty() || (needs_settled && !settled(st));
}

void hold(guild_actor* self, bool needs_settled, caf::response_promise promise,
          std::function<void(caf::response_promise&)> run) {
  self->state.held_.push_back({needs_settled, std::move(promise), std::move(run)});
  flush(self);
}

// Runs `run` now, or holds it (with every later message) until the guild is settled. With
// `answers` false (a plain send that expects no reply, e.g. register) no promise is made and
// `run` gets an empty one it must not use.
template <class F>
void run_settled(guild_actor* self, bool answers, F run) {
  auto promise = answers ? self->make_response_promise() : caf::response_promise{};
  if (must_hold(self->state, true)) {
    hold(self, true, std::move(promise), std::move(run));
  } else {
    run(promise);
  }
}

/// What a relay registering with a cursor gets after its view_reset: the stored events after
/// `from`, in order.
struct tail_replay {
  relay::stream_position from;
  std::vector<relay::dispatch_event_ptr> events;
};

// The tail after `cursor`. When it does not hold every stored event after the cursor (the older
// ones were overwritten, a row or a message does not read, or the guild keeps no tail:
// dispatch.event_tail_orders 0) there is nothing to replay and `from` is the guild's position
// now: partitions behind it resync their sessions. nullopt when the tail itself cannot be read
// (or the store keeps none).
std::optional<tail_replay> replay_after(guild_actor* self, relay::stream_position cursor) {
  auto& st = self->state;
  const relay::stream_position now{st.epoch_, st.order_};
  const auto guild_id = st.state_->id();
  if (st.svc_->config.event_tail_orders == 0) {
    // No rows are written, so an empty read would look like "nothing after the cursor".
    return tail_replay{now, {}};
  }
  auto rows = st.svc_->store->read_tail(guild_id, cursor.epoch, cursor.order);
  if (!rows) {
    spdlog::warn("guild {}: event tail unreadable: {}", guild_id, rows.error().message_);
    return std::nullopt;
  }
  if (!tail_covers(rows.value(), cursor)) {
    spdlog::info("guild {}: event tail no longer holds what follows cursor ({}, {}): resync",
                 guild_id, cursor.epoch, cursor.order);
    return tail_replay{now, {}};
  }
  tail_replay out{cursor, {}};
  slot_lookup slot_of = [&st](uint64_t channel_id) { return st.views_->slot_of(channel_id); };
  bool unreadable = false;  // a message row could not be read: replaying without it loses it
  auto rebuild = [&st, &slot_of, &unreadable](
                     uint64_t message_id,
                     bool update) -> caf::intrusive_ptr<relay::dispatch_event> {
    auto msg = st.svc_->store->get_message(message_id);
    if (!msg) {
      spdlog::warn("guild {}: message {} of the event tail unreadable: {}", st.state_->id(),
                   message_id, msg.error().message_);
      unreadable = true;
      return nullptr;
    }
    if (msg.value().deleted_) {
      return nullptr;  // deleted since: its MESSAGE_DELETE follows in the tail
    }
    return message_dispatch(*st.state_, msg.value(), update, slot_of);
  };
  for (const auto& row : rows.value()) {
    auto events = decode_tail_row(row, cursor, guild_id, slot_of, rebuild);
    if (!events) {
      spdlog::warn("guild {}: tail row ({}, {}) does not decode: resync", guild_id, row.epoch_,
                   row.order_);
      return tail_replay{now, {}};
    }
    if (unreadable) {
      return tail_replay{now, {}};  // resync rather than skip an event the relay never had
    }
    for (auto& ev : *events) {
      out.events.push_back(std::move(ev));
    }
  }
  return out;
}

void add_relay(guild_actor* self, caf::actor relay, std::vector<caf::actor> partitions,
               const std::optional<relay::stream_position>& cursor, bool rebound = false) {
  auto& st = self->state;
  for (auto& r : st.relays_) {
    if (r.relay == relay) {
      return;
    }
  }
  self->monitor(relay);
  relay::view_reset reset{
      st.views_->snapshot(), st.views_->class_map(), {st.epoch_, st.order_}, std::nullopt};
  tail_replay replay;
  if (cursor) {
    if (auto got = replay_after(self, *cursor)) {
      replay = std::move(*got);
      reset.replay_from = replay.from;
    } else if (!rebound) {
      reset.replay_from = reset.at;  // fed elsewhere before: resync whoever is behind
    }
    // A rebound relay without a readable tail keeps its stream as before: its predecessor here
    // fed it, and the inherited dispatches follow.
  }
  for (const auto& p : partitions) {
    self->send(p, reset);
  }
  if (!replay.events.empty()) {
    // Before any live event (the guild is settled here): the partitions drop what they had.
    replayed_counter().inc(replay.events.size());
    auto batch = caf::make_counted<relay::dispatch_batch>();
    batch->events = std::move(replay.events);
    relay::dispatch_batch_ptr shared{std::move(batch)};
    for (const auto& p : partitions) {
      self->send(p, shared);
    }
  }
  bool exporter = partitions.size() == 1 && partitions.front() == relay;
  st.relays_.push_back({std::move(relay), std::move(partitions), exporter});
}

/// A subscriber's view class and GUILD_CREATE tail, or not_member.
struct first_frames {
  uint32_t view_class = 0;
  std::string guild_create_tail;
};

caf::expected<first_frames> first_frames_of(guild_actor* self, uint64_t user) {
  auto& st = self->state;
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
  return first_frames{cls, st.guild_create_->tail_for(member->second, cached->second)};
}

caf::expected<caf::ok_atom> subscribe(guild_actor* self, session::session_output_ptr output,
                                      caf::actor partition) {
  auto frames = first_frames_of(self, output->user_id());
  if (!frames) {
    return std::move(frames.error());
  }
  self->send(partition, relay::add_subscriber{std::move(output), frames->view_class,
                                              std::move(frames->guild_create_tail)});
  return caf::ok_atom::value;
}

// The answer goes to the exporter in guild order, like add_subscriber to a local partition.
void subscribe_remote(guild_actor* self, uint64_t session_id, uint64_t user,
                      const caf::actor& exporter) {
  relay::remote_subscriber out;
  out.session_id = session_id;
  if (auto frames = first_frames_of(self, user)) {
    out.view_class = frames->view_class;
    out.guild_create_tail = std::move(frames->guild_create_tail);
  } else {
    out.error = std::move(frames.error());
  }
  self->send(exporter, std::move(out));
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
        auto promise = self->make_response_promise();
        if (must_hold(self->state, false)) {
          // Rare (a request waits for a settled guild): only then is the event copied.
          hold(self, false, std::move(promise),
               [self, event](caf::response_promise& p) { stage(self, event, p); });
        } else {
          stage(self, event, promise);
        }
        return caf::delegated<publish_ack>{};
      },
      [self](flush_atom) {
        handled().inc();
        self->state.retry_armed_ = false;
        flush(self);
      },
      [self](inherited_atom) {
        handled().inc();
        send_events(self, self->state.inherited_);
      },
      [self](ring_changed_atom) {
        handled().inc();
        check_owner(self);
      },
      [self](handoff_atom, uint16_t new_owner) {
        handled().inc();
        auto promise = self->make_response_promise<caf::ok_atom>();
        self->state.handoff_waiters_.push_back(promise);
        begin_handoff(self, new_owner);
        finish_handoff(self);
        return caf::delegated<caf::ok_atom>{};
      },
      [self](committed_atom, uint8_t code, std::string& failure) {
        handled().inc();
        if (code == committed_ok) {
          on_committed(self, std::nullopt);
        } else {
          on_committed(
              self, store::store_error{static_cast<store::store_errc>(code), std::move(failure)});
        }
      },
      // Every other request sees only committed (and dispatched) state, so that snapshots
      // (sizes, views, GUILD_CREATE) never show uncommitted changes: it waits for the staged
      // and in-flight events (run_settled).
      [self](relay::members_atom) {
        handled().inc();
        run_settled(self, true, [self](caf::response_promise& p) {
          p.deliver(static_cast<uint64_t>(self->state.state_->member_count()));
        });
        return caf::delegated<uint64_t>{};
      },
      [self](relay::register_atom, caf::actor relay, std::vector<caf::actor> partitions) {
        handled().inc();
        run_settled(self, false, [self, relay, partitions](caf::response_promise&) {
          add_relay(self, relay, partitions, std::nullopt);
        });
      },
      [self](relay::register_atom, caf::actor relay, std::vector<caf::actor> partitions,
             uint64_t epoch, uint64_t order) {
        handled().inc();
        // Settled first: the replay read from the store then ends where the live stream starts.
        run_settled(self, false, [self, relay, partitions, epoch, order](caf::response_promise&) {
          add_relay(self, relay, partitions, relay::stream_position{epoch, order});
        });
      },
      [self](relay::subscribe_atom, session::session_output_ptr output, caf::actor partition) {
        handled().inc();
        run_settled(self, true, [self, output, partition](caf::response_promise& p) {
          p.deliver(subscribe(self, output, partition));
        });
        return caf::delegated<caf::ok_atom>{};
      },
      [self](relay::remote_subscribe_atom, uint64_t session_id, uint64_t user,
             caf::actor exporter) {
        handled().inc();
        run_settled(self, false, [self, session_id, user, exporter](caf::response_promise&) {
          subscribe_remote(self, session_id, user, exporter);
        });
      },
  };
}

// A restarted guild first re-binds the relays that survived its previous
// incarnation, before it takes any event (await suspends other messages), each with its cursor:
// the tail after it is replayed (the previous incarnation may not have fed it everything: a
// stale owner fenced since, another node's incarnation in between), and the predecessor's
// inherited dispatches that follow are dropped by the partitions that had them.
void rebind_surviving_relays(guild_actor* self) {
  auto& st = self->state;
  for (auto& relay : st.svc_->relay_groups.members(st.state_->id())) {
    self->request(relay, st.svc_->config.request_timeout, relay::rebind_atom::value)
        .await(
            [self, relay](std::vector<caf::actor>& partitions, uint64_t epoch, uint64_t order) {
              std::optional<relay::stream_position> cursor;
              if (epoch != 0) {
                cursor = relay::stream_position{epoch, order};
              }
              add_relay(self, relay, std::move(partitions), cursor, true);
            },
            [self](caf::error& err) {
              spdlog::warn("guild {}: a relay did not answer: {}", self->state.state_->id(),
                           dispatch::describe(err));
            });
  }
}

// The new owner's side of a handoff: while the store names another node that is still connected
// as the guild's holder, ask it (once per holder epoch, through the router) to hand the guild
// off, and refuse retryably until it answered, so that its last commits land before the claim
// fences them. A holder that is down (failover) or never answers is not waited for.
// Sets `failover` when the holder is another node that is not connected: the claim then takes
// the guild without a handoff (herald_guild_failovers_total).
std::optional<caf::error> wait_for_handoff(dispatch::services& svc, uint64_t guild_id,
                                           bool& failover) {
  if (!svc.config.cluster || !svc.router) {
    return std::nullopt;
  }
  auto row = svc.store->guild_owner_of(guild_id);
  if (!row) {
    return std::nullopt;  // never claimed (or unreadable: the claim decides)
  }
  const auto holder = row.value().node_id_;
  if (holder == 0 || holder == svc.config.node_id) {
    return std::nullopt;
  }
  if (!svc.config.cluster->peer(static_cast<uint16_t>(holder))) {
    failover = true;
    return std::nullopt;
  }
  const auto epoch = row.value().epoch_;
  switch (svc.releases.next(guild_id, epoch, dispatch::guild_releases::clock::now(),
                            2 * svc.config.request_timeout)) {
    case dispatch::guild_releases::step::claim:
      return std::nullopt;
    case dispatch::guild_releases::step::ask:
      caf::anon_send(svc.router, handoff_atom::value, static_cast<uint16_t>(holder), guild_id,
                     epoch);
      break;
    case dispatch::guild_releases::step::wait:
      break;
  }
  return dispatch::make_error(dispatch::dispatch_errc::unavailable,
                              "guild " + std::to_string(guild_id) + " is moving from node " +
                                  std::to_string(holder) + ": waiting for its handoff");
}

/// Where an incarnation's tail chain starts (tail_start).
struct tail_origin {
  /// The predecessor of its first tail event.
  relay::stream_position prev;
  /// The row count its first row's slot is taken from (guild_actor_state::tail_rows_).
  uint64_t rows = 0;
};

// The store's newest tail row: its position, and the slot after its; (0, 0) for a guild that
// never committed an event; relay::unknown_position when its events predate the tail (or the
// tail cannot be read), so that no cursor before them counts as covered.
tail_origin tail_start(dispatch::services& svc, uint64_t guild_id,
                       const store::guild_owner& owner) {
  auto head = svc.store->tail_head(guild_id);
  if (head && head.value()) {
    return {position_of(*head.value()), uint64_t{head.value()->slot_} + 1};
  }
  if (head && owner.last_order_ == 0) {
    return {};
  }
  return {relay::unknown_position, 0};
}

}  // namespace

std::string_view publish_ack::payload() const {
  return tail.empty() ? std::string_view{json} : payload_of(tail.view());
}

caf::expected<caf::actor> spawn_guild(const dispatch::services_ptr& svc, uint64_t guild_id) {
  // A previous incarnation may have died with a batch in flight: load what it left only once
  // the writer has settled that batch (committed or failed), or the new state would miss
  // events that are then stored, and a later commit could reorder them.
  svc->writer->wait_idle(guild_id);
  if (auto held = svc->fences.holding(guild_id, ring_generation(*svc),
                                      dispatch::guild_fences::clock::now())) {
    return dispatch::make_error(dispatch::dispatch_errc::unavailable,
                                "guild " + std::to_string(guild_id) +
                                    " was taken by another node (" + held->reason +
                                    "); not restarted here until the ring changes");
  }
  bool failover = false;
  if (auto waiting = wait_for_handoff(*svc, guild_id, failover)) {
    return std::move(*waiting);
  }
  const auto unknown =
      dispatch::make_error(dispatch::dispatch_errc::unknown_guild, std::to_string(guild_id));
  // Claim before loading: from the claim on, no earlier owner can commit, so the state loaded
  // next is final and the order goes on from the last committed one. Through the writer: guilds
  // starting at the same time share one claim transaction (store_writer::claim).
  auto claimed = svc->writer->claim(guild_id, svc->config.node_id);
  if (!claimed) {
    return dispatch::from_store_error(claimed.error(), unknown);
  }
  claims_counter().inc();
  if (failover) {
    failovers_counter().inc();
  }
  svc->releases.forget(guild_id);
  auto loaded = svc->store->load_guild(guild_id);
  if (!loaded) {
    return dispatch::from_store_error(loaded.error(), unknown);
  }
  const auto owner = claimed.value();
  const auto tail_from = tail_start(*svc, guild_id, owner);
  auto state = std::make_shared<domain::guild_state>(std::move(loaded.value()));
  auto inherited = std::make_shared<std::vector<relay::dispatch_event_ptr>>();
  for (auto& item : svc->handoff.take(guild_id)) {
    auto& events = *std::static_pointer_cast<orphaned_events>(item);
    inherited->insert(inherited->end(), events.begin(), events.end());
  }
  return svc->system.spawn(
      [svc, state, inherited, owner, tail_from](guild_actor* self) -> caf::behavior {
        auto& st = self->state;
        st.svc_ = svc;
        st.epoch_ = owner.epoch_;
        st.order_ = owner.last_order_;
        st.tail_prev_ = tail_from.prev;
        st.tail_rows_ = tail_from.rows;
        st.state_.emplace(std::move(*state));
        st.views_.emplace(*st.state_);
        if (svc->config.cluster) {
          // Hears of ring changes from the router (ring_changed_atom); left automatically on exit.
          svc->ring_watchers.join(dispatch::services::guild_watch_group,
                                  caf::actor_cast<caf::actor>(self));
          // The ring may have moved between the caller's placement and this start.
          self->send(self, ring_changed_atom::value);
        }
        rebind_surviving_relays(self);
        if (!inherited->empty()) {
          // After the awaited relay answers (await holds every other message back), before any
          // publish: the predecessor's committed events keep their place in guild order.
          st.inherited_ = std::move(*inherited);
          self->send(self, inherited_atom::value);
        }
        return guild_behavior(self);
      });
}

}  // namespace herald::guild
