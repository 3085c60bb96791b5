// SPDX-License-Identifier: Apache-2.0
#pragma once
// Template bodies of basic_groups; included by groups.cpp (std::string and
// uint64_t instantiations) and by users of other key types.
// Invariant: shard locks are never held across attach/detach or a handle drop.

#include "runtime/metrics/metrics.hpp"
#include "runtime/registry/groups.hpp"

#include <atomic>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace herald::registry {

template <class Key, class Hash>
struct basic_groups<Key, Hash>::core
    : std::enable_shared_from_this<typename basic_groups<Key, Hash>::core> {
  struct member {
    caf::actor actor;
    uint64_t serial;  // identifies this membership's removal hook
  };
  // Members keyed by control block address: unique while the entry holds its
  // strong handle, and hooks can carry it without keeping the actor alive.
  using member_map = std::unordered_map<const void*, member>;
  struct alignas(64) shard {
    mutable std::mutex mutex;
    std::unordered_map<Key, member_map, Hash> groups;
  };

  core(std::string n, size_t count)
      : name(std::move(n)),
        shards(count == 0 ? 1 : count),
        members(metrics::registry::global().get_gauge(
            "herald_registry_group_members", "Memberships held in a pub/sub group registry",
            {{"registry", name}})),
        dispatches(metrics::registry::global().get_counter("herald_registry_dispatches_total",
                                                           "dispatch calls on group registry",
                                                           {{"registry", name}})),
        deliveries(metrics::registry::global().get_counter(
            "herald_registry_deliveries_total", "Messages enqueued to group members by dispatch",
            {{"registry", name}})) {}

  shard& shard_for(const Key& key) { return shards[detail::shard_of(Hash{}(key), shards.size())]; }

  static const void* key_of(const caf::actor& a) {
    return caf::actor_cast<caf::abstract_actor*>(a)->ctrl();
  }

  /// Erases one membership; its handle goes to `dropped` (released by the
  /// caller after unlocking, see registry_impl.hpp drop_outside_lock).
  bool erase_locked(shard& s, const Key& group, const void* who, std::optional<uint64_t> serial,
                    member& dropped) {
    auto g = s.groups.find(group);
    if (g == s.groups.end()) {
      return false;
    }
    auto m = g->second.find(who);
    if (m == g->second.end() || (serial && m->second.serial != *serial)) {
      return false;
    }
    dropped = std::move(m->second);
    g->second.erase(m);
    if (g->second.empty()) {
      s.groups.erase(g);
    }
    members.sub();
    return true;
  }

  /// Runs on the dying actor's thread.
  static void on_exit(const std::weak_ptr<core>& weak, const Key& group, const void* who,
                      uint64_t serial) {
    auto self = weak.lock();
    if (!self) {
      return;
    }
    member dropped;
    auto& s = self->shard_for(group);
    std::lock_guard<std::mutex> guard{s.mutex};
    self->erase_locked(s, group, who, serial, dropped);
  }

  std::string name;
  std::vector<shard> shards;
  std::atomic<uint64_t> next_serial{1};
  metrics::gauge& members;
  metrics::counter& dispatches;
  metrics::counter& deliveries;
};

template <class Key, class Hash>
basic_groups<Key, Hash>::basic_groups(std::string name, size_t shard_count)
    : core_(std::make_shared<core>(std::move(name), shard_count)) {}

template <class Key, class Hash>
basic_groups<Key, Hash>::~basic_groups() {
  for (auto& s : core_->shards) {
    std::vector<caf::actor> dropped;
    std::lock_guard<std::mutex> guard{s.mutex};
    for (auto& g : s.groups) {
      for (auto& m : g.second) {
        dropped.push_back(std::move(m.second.actor));
      }
    }
    core_->members.sub(static_cast<int64_t>(dropped.size()));
    s.groups.clear();
  }
}

template <class Key, class Hash>
std::optional<registry_error> basic_groups<Key, Hash>::join(const Key& group,
                                                            const caf::actor& actor) {
  if (detail::is_dead(actor)) {
    return registry_error::dead_actor;
  }
  auto who = core::key_of(actor);
  auto serial = core_->next_serial.fetch_add(1, std::memory_order_relaxed);
  {
    auto& s = core_->shard_for(group);
    std::lock_guard<std::mutex> guard{s.mutex};
    auto& members = s.groups[group];
    if (members.empty()) {
      // Most groups hold one or a few members (a user's sessions, a guild's
      // relays on this node): a load factor of 4 lets the first members share
      // a 2-bucket array instead of a 13-bucket one (~80 bytes less per
      // group; 100k users' session groups = 8 MB), and big groups still
      // hash with chains of ~4.
      members.max_load_factor(4.0f);
    }
    auto [m, inserted] = members.try_emplace(who, typename core::member{actor, serial});
    if (!inserted) {
      return std::nullopt;
    }
    core_->members.add();
  }
  std::weak_ptr<core> weak = core_;
  detail::attach_hook(actor, detail::hook_id{core_.get(), serial},
                      [weak, group, who, serial] { core::on_exit(weak, group, who, serial); });
  return std::nullopt;
}

template <class Key, class Hash>
bool basic_groups<Key, Hash>::leave(const Key& group, const caf::actor& actor) {
  if (!actor) {
    return false;
  }
  typename core::member dropped;
  {
    auto& s = core_->shard_for(group);
    std::lock_guard<std::mutex> guard{s.mutex};
    if (!core_->erase_locked(s, group, core::key_of(actor), std::nullopt, dropped)) {
      return false;
    }
  }
  detail::detach_hook(actor, detail::hook_id{core_.get(), dropped.serial});
  return true;
}

template <class Key, class Hash>
std::vector<caf::actor> basic_groups<Key, Hash>::members(const Key& group) const {
  std::vector<caf::actor> result;
  auto& s = core_->shard_for(group);
  std::lock_guard<std::mutex> guard{s.mutex};
  auto g = s.groups.find(group);
  if (g != s.groups.end()) {
    result.reserve(g->second.size());
    for (auto& m : g->second) {
      if (!detail::is_dead(m.second.actor)) {
        result.push_back(m.second.actor);
      }
    }
  }
  return result;
}

template <class Key, class Hash>
size_t basic_groups<Key, Hash>::dispatch_message(const Key& group, const caf::message& msg,
                                                 caf::strong_actor_ptr sender,
                                                 caf::execution_unit* host) {
  core_->dispatches.inc();
  auto targets = members(group);
  for (auto& target : targets) {
    target->enqueue(sender, caf::make_message_id(), msg, host);
  }
  core_->deliveries.inc(targets.size());
  return targets.size();
}

template <class Key, class Hash>
size_t basic_groups<Key, Hash>::group_count() const {
  size_t total = 0;
  for (auto& s : core_->shards) {
    std::lock_guard<std::mutex> guard{s.mutex};
    total += s.groups.size();
  }
  return total;
}

template <class Key, class Hash>
const std::string& basic_groups<Key, Hash>::name() const noexcept {
  return core_->name;
}

}  // namespace herald::registry
