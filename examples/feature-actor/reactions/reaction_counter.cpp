// SPDX-License-Identifier: Apache-2.0
#include "examples/feature-actor/reactions/reaction_counter.hpp"

#include <deque>
#include <map>
#include <set>
#include <unordered_map>
#include <utility>

#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>

#include "runtime/registry/ensure_started.hpp"
#include "actors/guild/guild_actor.hpp"
#include "examples/feature-actor/reactions/reactions_error.hpp"
#include "runtime/metrics/actor_metrics.hpp"
#include "runtime/supervision/worker.hpp"

namespace herald::reactions {

uint64_t reaction_counts::of(const emoji& e) const {
  auto key = key_of(e);
  for (const auto& c : emojis_) {
    if (key_of(c.emoji_) == key) {
      return c.count_;
    }
  }
  return 0;
}

namespace {

/// A change waiting for its turn; the reply goes out when it is done.
struct pending_change {
  bool add_ = true;
  reaction reaction_;  // guild_id_ filled in once the message is checked
  caf::response_promise promise_;
};

struct emoji_reactors {
  emoji emoji_;
  std::set<uint64_t> users_;  // never empty: the entry is erased with its last user
};

struct counter_state {
  uint64_t channel_id_ = 0;
  /// Learned from the first checked message; a channel is in one guild.
  uint64_t guild_id_ = 0;
  dispatch::services_ptr svc_;
  /// message id → emoji key → who reacted. Holds only changes the guild
  /// acknowledged; no empty maps or sets.
  std::unordered_map<uint64_t, std::map<std::string, emoji_reactors>> messages_;
  /// Changes in arrival order. One publish is in flight at a time (the
  /// front, while publishing_), so the guild orders them as they arrived
  /// and each is checked against the state its predecessors left.
  std::deque<pending_change> queue_;
  bool publishing_ = false;
  metrics::counter* handled_ = nullptr;
  metrics::counter* dispatched_ = nullptr;
  static constexpr const char* name = "reaction_counter";
};

using counter_actor = caf::stateful_actor<counter_state>;

uint64_t count_of(const counter_state& st, uint64_t message_id, const std::string& key) {
  auto m = st.messages_.find(message_id);
  if (m == st.messages_.end()) {
    return 0;
  }
  auto e = m->second.find(key);
  return e == m->second.end() ? 0 : e->second.users_.size();
}

bool holds(const counter_state& st, const reaction& r) {
  auto m = st.messages_.find(r.message_id_);
  if (m == st.messages_.end()) {
    return false;
  }
  auto e = m->second.find(key_of(r.emoji_));
  return e != m->second.end() && e->second.users_.count(r.user_id_) > 0;
}

void apply(counter_state& st, const pending_change& c) {
  const auto& r = c.reaction_;
  auto key = key_of(r.emoji_);
  auto& emojis = st.messages_[r.message_id_];
  if (c.add_) {
    auto& entry = emojis[key];
    entry.emoji_ = r.emoji_;
    entry.users_.insert(r.user_id_);
    return;
  }
  auto e = emojis.find(key);
  if (e != emojis.end()) {
    e->second.users_.erase(r.user_id_);
    if (e->second.users_.empty()) {
      emojis.erase(e);
    }
  }
  if (emojis.empty()) {
    st.messages_.erase(r.message_id_);
  }
}

reaction_counts counts_of(const counter_state& st, uint64_t message_id) {
  reaction_counts out;
  auto m = st.messages_.find(message_id);
  if (m != st.messages_.end()) {
    for (const auto& [key, entry] : m->second) {
      out.emojis_.push_back({entry.emoji_, entry.users_.size()});
    }
  }
  return out;
}

// A first reaction needs its message: it must exist in this channel. One
// point read of the store (the guild persisted the message before acking it).
caf::error check_message(counter_state& st, reaction& r) {
  auto msg = st.svc_->store->get_message(r.message_id_);
  if (!msg || msg.value().channel_id_ != st.channel_id_ || msg.value().deleted_) {
    return make_error(reactions_errc::unknown_message, std::to_string(r.message_id_));
  }
  st.guild_id_ = msg.value().guild_id_;
  r.guild_id_ = st.guild_id_;
  return {};
}

void process_queue(counter_actor* self);

// The guild answered the front change: apply it on success, reply, go on.
void finish_front(counter_actor* self, caf::error err) {
  auto& st = self->state;
  auto done = std::move(st.queue_.front());
  st.queue_.pop_front();
  st.publishing_ = false;
  if (err) {
    done.promise_.deliver(std::move(err));
  } else {
    apply(st, done);
    st.dispatched_->inc();
    done.promise_.deliver(count_of(st, done.reaction_.message_id_, key_of(done.reaction_.emoji_)));
  }
  process_queue(self);
}

// Publishes the front change through its guild (started on demand, as any
// producer would) and waits for the ack before touching the next change.
void publish_front(counter_actor* self) {
  auto& st = self->state;
  st.publishing_ = true;
  const auto& front = st.queue_.front();
  auto event = reaction_event(front.reaction_, front.add_);
  auto timeout = st.svc_->config.request_timeout;
  auto& svc = *st.svc_;
  registry::ensure_started(
    self, svc.guilds, svc.guild_supervisor, svc.guild_spec, event.guild_id(), timeout,
    [self, event, timeout](caf::expected<caf::actor> guild_actor) {
      if (!guild_actor) {
        finish_front(self, guild_actor.error());
        return;
      }
      self->request(*guild_actor, timeout, guild::publish_atom::value, event)
        .then([self](const guild::publish_ack&) { finish_front(self, caf::error{}); },
              [self](caf::error& err) { finish_front(self, std::move(err)); });
    });
}

// Answers changes that change nothing at once; stops at the first real one.
void process_queue(counter_actor* self) {
  auto& st = self->state;
  while (!st.publishing_ && !st.queue_.empty()) {
    auto& front = st.queue_.front();
    auto& r = front.reaction_;
    if (holds(st, r) == front.add_) {
      front.promise_.deliver(count_of(st, r.message_id_, key_of(r.emoji_)));
      st.queue_.pop_front();
      continue;
    }
    if (front.add_) {
      if (auto err = check_message(st, r)) {
        front.promise_.deliver(std::move(err));
        st.queue_.pop_front();
        continue;
      }
    } else {
      r.guild_id_ = st.guild_id_;  // known: the reaction being removed was added
    }
    publish_front(self);
    return;
  }
}

caf::result<uint64_t> enqueue(counter_actor* self, bool add, uint64_t message_id,
                              uint64_t user_id, emoji e) {
  if (!valid_emoji(e)) {
    return make_error(reactions_errc::invalid_emoji, e.name_.substr(0, max_emoji_name));
  }
  pending_change change;
  change.add_ = add;
  change.reaction_.channel_id_ = self->state.channel_id_;
  change.reaction_.message_id_ = message_id;
  change.reaction_.user_id_ = user_id;
  change.reaction_.emoji_ = std::move(e);
  change.promise_ = self->make_response_promise();
  auto promise = change.promise_;
  self->state.queue_.push_back(std::move(change));
  process_queue(self);
  return promise;
}

caf::behavior reaction_counter(counter_actor* self, dispatch::services_ptr svc,
                               uint64_t channel_id) {
  auto& st = self->state;
  st.channel_id_ = channel_id;
  st.svc_ = std::move(svc);
  st.handled_ = &metrics::messages_handled(counter_kind);
  st.dispatched_ = &metrics::registry::global().get_counter(
    "herald_feature_reactions_dispatched_total",
    "Reaction changes the guild ordered and dispatched (ADD and REMOVE)");
  return {
    // (add, message, user, emoji) → count; see add_atom.
    [self](add_atom, uint64_t message_id, uint64_t user_id, emoji e) {
      self->state.handled_->inc();
      return enqueue(self, true, message_id, user_id, std::move(e));
    },
    // (remove, message, user, emoji) → count left; see remove_atom.
    [self](remove_atom, uint64_t message_id, uint64_t user_id, emoji e) {
      self->state.handled_->inc();
      return enqueue(self, false, message_id, user_id, std::move(e));
    },
    // (counts, message) → reaction_counts; acknowledged changes only.
    [self](counts_atom, uint64_t message_id) {
      self->state.handled_->inc();
      return counts_of(self->state, message_id);
    },
  };
}

}  // namespace

caf::expected<caf::actor> spawn_reaction_counter(caf::actor_system& sys,
                                                 dispatch::services_ptr svc,
                                                 uint64_t channel_id) {
  if (!svc) {
    return caf::make_error(caf::sec::invalid_argument, "no dispatch services");
  }
  return supervision::spawn_worker(sys, reaction_counter, std::move(svc), channel_id);
}

}  // namespace herald::reactions
