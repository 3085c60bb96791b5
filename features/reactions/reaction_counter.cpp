// SPDX-License-Identifier: Apache-2.0
#include "features/reactions/reaction_counter.hpp"

#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>

#include <spdlog/spdlog.h>
#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/dispatch/commands.hpp"
#include "actors/feature/feature_state.hpp"
#include "actors/feature/keyed_service.hpp"
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
  /// The channel's guild, read from the store at start; a channel is in one guild.
  uint64_t guild_id_ = 0;
  dispatch::services_ptr svc_;
  /// message id → emoji key → who reacted. Holds only changes the guild
  /// acknowledged; no empty maps or sets.
  std::unordered_map<uint64_t, std::map<std::string, emoji_reactors>> messages_;
  /// Changes in arrival order, one publish in flight: the guild orders them
  /// as they arrived and each is checked against the state its predecessors left.
  std::optional<feature::ordered_publisher> publisher_;
  /// The store's copy of messages_: changes ride their publish (reaction_event); observed
  /// deletes are dropped through the store writer.
  std::optional<feature::feature_state> stored_;
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

// Discord's message object field: "reactions":[{count, count_details, me, me_burst, emoji,
// burst_colors}], absent ("") when the message has none.
std::vector<std::string> reactions_members(const counter_state& st, uint64_t reader,
                                           const std::vector<uint64_t>& message_ids) {
  std::vector<std::string> out;
  out.reserve(message_ids.size());
  for (auto id : message_ids) {
    auto m = st.messages_.find(id);
    if (m == st.messages_.end()) {
      out.emplace_back();
      continue;
    }
    nlohmann::json list = nlohmann::json::array();
    for (const auto& [key, entry] : m->second) {
      nlohmann::json e{{"id", nullptr}, {"name", entry.emoji_.name_}};
      if (entry.emoji_.id_ != 0) {
        e["id"] = std::to_string(entry.emoji_.id_);
      }
      auto count = entry.users_.size();
      list.push_back({{"count", count},
                      {"count_details", {{"burst", 0}, {"normal", count}}},
                      {"me", entry.users_.count(reader) > 0},
                      {"me_burst", false},
                      {"emoji", std::move(e)},
                      {"burst_colors", nlohmann::json::array()}});
    }
    out.push_back("\"reactions\":" +
                  list.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
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

// Queues one change: when its turn comes it is answered at once if it changes
// nothing, else published and counted on the guild's ack.
caf::result<uint64_t> enqueue(counter_actor* self, bool add, reaction r,
                              feature::permission_check check) {
  if (!valid_emoji(r.emoji_)) {
    return make_error(reactions_errc::invalid_emoji, r.emoji_.name_.substr(0, max_emoji_name));
  }
  r.channel_id_ = self->state.channel_id_;
  r.guild_id_ = self->state.guild_id_;
  auto promise = self->make_response_promise();
  auto change = std::make_shared<reaction>(std::move(r));
  feature::ordered_change step;
  step.prepare = [self, add, change, check, promise]() mutable -> std::optional<proto::event> {
    auto& st = self->state;
    if (holds(st, *change) == add) {
      promise.deliver(count_of(st, change->message_id_, key_of(change->emoji_)));
      return std::nullopt;
    }
    // The guild checks the actor's access, then that the message exists (unknown_message).
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

// An observed MESSAGE_DELETE or CHANNEL_DELETE: its reactions go, in memory now and in the
// store through the writer (after the deleting event committed; nothing re-adds them: the
// guild refuses reactions to a deleted message or in a deleted channel).
void forget(counter_actor* self, const dispatch::core_event& ev) {
  auto& st = self->state;
  feature::state_writes writes{feature_name};
  if (ev.kind == dispatch::core_event_kind::channel_delete) {
    st.messages_.clear();
    writes.erase_prefix(channel_prefix(st.channel_id_));
  } else {
    for (auto id : ev.message_ids) {
      if (st.messages_.erase(id) > 0) {
        writes.erase_prefix(message_prefix(st.channel_id_, id));
      }
    }
  }
  if (writes.empty()) {
    return;
  }
  auto channel_id = st.channel_id_;
  auto failed = [channel_id](const caf::error& err) {
    if (err) {
      spdlog::warn("reactions of channel {}: dropping deleted reactions failed: {}", channel_id,
                   describe(err));
    }
  };
  if (auto err = st.stored_->submit(writes, failed)) {
    failed(err);
  }
}

caf::behavior reaction_counter(counter_actor* self, dispatch::services_ptr svc, uint64_t channel_id,
                               uint64_t guild_id, const std::vector<feature::state_entry>& stored) {
  auto& st = self->state;
  st.channel_id_ = channel_id;
  st.guild_id_ = guild_id;
  for (const auto& e : stored) {
    if (auto r = from_state(e.key_, e.value_); r && r->channel_id_ == channel_id) {
      apply(st, true, *r);
    }
  }
  st.stored_.emplace(svc, feature_name);
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
      // (decorate, reader, messages) → their `reactions` members; see decorate_atom.
      [self](decorate_atom, uint64_t reader, const std::vector<uint64_t>& message_ids) {
        self->state.handled_->inc();
        return reactions_members(self->state, reader, message_ids);
      },
      // A core event this channel's reactions depend on (feature::observe_by_key).
      [self](feature::observed_atom, const dispatch::core_event& ev) {
        self->state.handled_->inc();
        forget(self, ev);
      },
  };
}

}  // namespace

caf::expected<caf::actor> spawn_reaction_counter(caf::actor_system& sys, dispatch::services_ptr svc,
                                                 uint64_t channel_id) {
  if (!svc) {
    return caf::make_error(caf::sec::invalid_argument, "no dispatch services");
  }
  auto guild_id = dispatch::guild_of_channel(svc, channel_id);
  if (!guild_id) {
    return std::move(guild_id.error());
  }
  // The channel's reactions as the guild committed them (a blocking read, once per start).
  auto stored = feature::feature_state{svc, feature_name}.load(channel_prefix(channel_id));
  if (!stored) {
    return std::move(stored.error());
  }
  return supervision::spawn_worker(sys, reaction_counter, std::move(svc), channel_id, *guild_id,
                                   std::move(*stored));
}

}  // namespace herald::reactions
