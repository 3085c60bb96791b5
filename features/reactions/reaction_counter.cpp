// SPDX-License-Identifier: Apache-2.0
#include "features/reactions/reaction_counter.hpp"

#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>

#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/feature/ordered_publisher.hpp"
#include "features/reactions/reactions_error.hpp"
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
  /// Changes in arrival order, one publish in flight: the guild orders them
  /// as they arrived and each is checked against the state its predecessors left.
  std::optional<feature::ordered_publisher> publisher_;
  metrics::counter* handled_ = nullptr;
  metrics::counter* dispatched_ = nullptr;
  static constexpr const char* name = "reaction_counter";
};

using counter_actor = caf::stateful_actor<counter_state>;

const emoji_reactors* reactors_at(const counter_state& st, uint64_t message_id,
                                  const std::string& key) {
  auto m = st.messages_.find(message_id);
  if (m == st.messages_.end()) {
    return nullptr;
  }
  auto e = m->second.find(key);
  return e == m->second.end() ? nullptr : &e->second;
}

uint64_t count_of(const counter_state& st, uint64_t message_id, const std::string& key) {
  const auto* entry = reactors_at(st, message_id, key);
  return entry == nullptr ? 0 : entry->users_.size();
}

bool holds(const counter_state& st, const reaction& r) {
  const auto* entry = reactors_at(st, r.message_id_, key_of(r.emoji_));
  return entry != nullptr && entry->users_.count(r.user_id_) > 0;
}

void apply(counter_state& st, bool add, const reaction& r) {
  auto key = key_of(r.emoji_);
  auto& emojis = st.messages_[r.message_id_];
  if (add) {
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

reactors reactors_of(const counter_state& st, uint64_t message_id, const emoji& e) {
  reactors out;
  if (const auto* entry = reactors_at(st, message_id, key_of(e))) {
    out.user_ids_.assign(entry->users_.begin(), entry->users_.end());
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

// Queues one change: when its turn comes it is answered at once if it changes
// nothing, else published and counted on the guild's ack.
caf::result<uint64_t> enqueue(counter_actor* self, bool add, reaction r,
                              feature::permission_check check) {
  if (!valid_emoji(r.emoji_)) {
    return make_error(reactions_errc::invalid_emoji, r.emoji_.name_.substr(0, max_emoji_name));
  }
  r.channel_id_ = self->state.channel_id_;
  auto promise = self->make_response_promise();
  auto change = std::make_shared<reaction>(std::move(r));
  feature::ordered_change step;
  step.prepare = [self, add, change, check, promise]() mutable -> std::optional<proto::event> {
    auto& st = self->state;
    if (holds(st, *change) == add) {
      promise.deliver(count_of(st, change->message_id_, key_of(change->emoji_)));
      return std::nullopt;
    }
    if (!add) {
      change->guild_id_ = st.guild_id_;  // known: the reaction being removed was added
    } else if (auto err = check_message(st, *change)) {
      promise.deliver(std::move(err));
      return std::nullopt;
    }
    return reaction_event(*change, add, check);
  };
  step.done = [self, add, change, promise](caf::expected<guild::publish_ack> acked) mutable {
    auto& st = self->state;
    if (!acked) {
      promise.deliver(std::move(acked.error()));
      return;
    }
    apply(st, add, *change);
    st.dispatched_->inc();
    promise.deliver(count_of(st, change->message_id_, key_of(change->emoji_)));
  };
  self->state.publisher_->push(std::move(step));
  return promise;
}

caf::behavior reaction_counter(counter_actor* self, dispatch::services_ptr svc,
                               uint64_t channel_id) {
  auto& st = self->state;
  st.channel_id_ = channel_id;
  st.publisher_.emplace(self, svc);
  st.svc_ = std::move(svc);
  st.handled_ = &metrics::messages_handled(counter_kind);
  st.dispatched_ = &metrics::registry::global().get_counter(
      "herald_feature_reactions_dispatched_total",
      "Reaction changes the guild ordered and dispatched (ADD and REMOVE)");
  auto change = [self](bool add, uint64_t message_id, uint64_t user_id, emoji e,
                       feature::permission_check check) {
    self->state.handled_->inc();
    return enqueue(self, add, reaction{0, 0, message_id, user_id, std::move(e)}, check);
  };
  return {
      // (add, message, user, emoji, check) → count; see add_atom.
      [change](add_atom, uint64_t message_id, uint64_t user_id, emoji e,
               feature::permission_check check) {
        return change(true, message_id, user_id, std::move(e), check);
      },
      // (remove, message, user, emoji, check) → count left; see remove_atom.
      [change](remove_atom, uint64_t message_id, uint64_t user_id, emoji e,
               feature::permission_check check) {
        return change(false, message_id, user_id, std::move(e), check);
      },
      // (counts, message) → reaction_counts; acknowledged changes only.
      [self](counts_atom, uint64_t message_id) {
        self->state.handled_->inc();
        return counts_of(self->state, message_id);
      },
      // (users, message, emoji) → reactors; acknowledged changes only.
      [self](users_atom, uint64_t message_id, const emoji& e) {
        self->state.handled_->inc();
        return reactors_of(self->state, message_id, e);
      },
  };
}

}  // namespace

caf::expected<caf::actor> spawn_reaction_counter(caf::actor_system& sys, dispatch::services_ptr svc,
                                                 uint64_t channel_id) {
  if (!svc) {
    return caf::make_error(caf::sec::invalid_argument, "no dispatch services");
  }
  return supervision::spawn_worker(sys, reaction_counter, std::move(svc), channel_id);
}

}  // namespace herald::reactions
