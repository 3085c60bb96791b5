// SPDX-License-Identifier: Apache-2.0
#pragma once
// Template bodies of basic_registry; included by registry.cpp (which compiles
// the std::string and uint64_t instantiations) and by users of other keys.
// Invariant: shard locks are never held across a CAF attach/detach call.

#include "runtime/metrics/metrics.hpp"
#include "runtime/registry/registry.hpp"

#include <atomic>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace herald::registry {

template <class Key, class Hash>
struct basic_registry<Key, Hash>::core
    : std::enable_shared_from_this<typename basic_registry<Key, Hash>::core> {
  struct entry {
    caf::actor actor;
    uint64_t serial;  // identifies this registration's removal hook
  };
  struct alignas(64) shard {
    mutable std::mutex mutex;
    std::unordered_map<Key, entry, Hash> entries;
  };

  core(std::string n, size_t count)
      : name(std::move(n)),
        shards(count == 0 ? 1 : count),
        names(metrics::registry::global().get_gauge("herald_registry_names",
                                                    "Keys registered in a unique-key registry",
                                                    {{"registry", name}})),
        lookups(metrics::registry::global().get_counter(
            "herald_registry_lookups_total",
            "lookup and lookup_or_start calls on a unique-key registry", {{"registry", name}})),
        starts(metrics::registry::global().get_counter("herald_registry_starts_total",
                                                       "start callbacks run by lookup_or_start",
                                                       {{"registry", name}})) {}

  shard& shard_for(const Key& key) { return shards[detail::shard_of(Hash{}(key), shards.size())]; }

  detail::hook_id id_of(uint64_t serial) const { return detail::hook_id{this, serial}; }

  /// Runs on the dying actor's thread. Erases the entry only if it is still
  /// this registration: a newer one under the same key must survive.
  static void on_exit(const std::weak_ptr<core>& weak, const Key& key, uint64_t serial) {
    auto self = weak.lock();
    if (!self) {
      return;
    }
    caf::actor dropped;  // released after the lock: see drop_outside_lock
    auto& s = self->shard_for(key);
    std::lock_guard<std::mutex> guard{s.mutex};
    auto i = s.entries.find(key);
    if (i != s.entries.end() && i->second.serial == serial) {
      dropped = std::move(i->second.actor);
      s.entries.erase(i);
      self->names.sub();
    }
  }

  /// Call without any shard lock held.
  void watch(const Key& key, const caf::actor& actor, uint64_t serial) {
    std::weak_ptr<core> weak = this->shared_from_this();
    detail::attach_hook(actor, id_of(serial), [weak, key, serial] { on_exit(weak, key, serial); });
  }

  // drop_outside_lock: every handle removed under a shard lock is moved to a
  // local declared *before* the lock guard, so it is released after unlocking.
  // Releasing the last reference to an unreachable actor runs its cleanup and
  // hooks synchronously, and a hook takes the shard lock: self-deadlock.

  std::string name;
  std::vector<shard> shards;
  std::atomic<uint64_t> next_serial{1};
  metrics::gauge& names;
  metrics::counter& lookups;
  metrics::counter& starts;
};

template <class Key, class Hash>
basic_registry<Key, Hash>::basic_registry(std::string name, size_t shard_count)
    : core_(std::make_shared<core>(std::move(name), shard_count)) {}

template <class Key, class Hash>
basic_registry<Key, Hash>::~basic_registry() {
  // Entries leave with the registry; keep the shared gauge truthful. A hook
  // still running on another thread finds nothing left to remove.
  for (auto& s : core_->shards) {
    std::vector<caf::actor> dropped;  // drop_outside_lock
    std::lock_guard<std::mutex> guard{s.mutex};
    dropped.reserve(s.entries.size());
    for (auto& kv : s.entries) {
      dropped.push_back(std::move(kv.second.actor));
    }
    core_->names.sub(static_cast<int64_t>(s.entries.size()));
    s.entries.clear();
  }
}

template <class Key, class Hash>
std::optional<registry_error> basic_registry<Key, Hash>::register_actor(const Key& key,
                                                                        const caf::actor& actor) {
  if (detail::is_dead(actor)) {
    return registry_error::dead_actor;
  }
  auto serial = core_->next_serial.fetch_add(1, std::memory_order_relaxed);
  {
    caf::actor dropped;  // drop_outside_lock
    auto& s = core_->shard_for(key);
    std::lock_guard<std::mutex> guard{s.mutex};
    auto [i, inserted] = s.entries.try_emplace(key, typename core::entry{actor, serial});
    if (!inserted) {
      if (!detail::is_dead(i->second.actor)) {
        return registry_error::key_taken;
      }
      // The old holder's hook will find a different serial and do nothing.
      dropped = std::exchange(i->second.actor, actor);
      i->second.serial = serial;
    } else {
      core_->names.add();
    }
  }
  core_->watch(key, actor, serial);
  return std::nullopt;
}

template <class Key, class Hash>
bool basic_registry<Key, Hash>::unregister(const Key& key) {
  typename core::entry removed;
  {
    auto& s = core_->shard_for(key);
    std::lock_guard<std::mutex> guard{s.mutex};
    auto i = s.entries.find(key);
    if (i == s.entries.end()) {
      return false;
    }
    removed = std::move(i->second);
    s.entries.erase(i);
    core_->names.sub();
  }
  detail::detach_hook(removed.actor, core_->id_of(removed.serial));
  return true;
}

template <class Key, class Hash>
bool basic_registry<Key, Hash>::unregister(const Key& key, const caf::actor& actor) {
  uint64_t serial = 0;
  {
    caf::actor dropped;  // drop_outside_lock
    auto& s = core_->shard_for(key);
    std::lock_guard<std::mutex> guard{s.mutex};
    auto i = s.entries.find(key);
    if (i == s.entries.end() || i->second.actor != actor) {
      return false;
    }
    serial = i->second.serial;
    dropped = std::move(i->second.actor);
    s.entries.erase(i);
    core_->names.sub();
  }
  detail::detach_hook(actor, core_->id_of(serial));
  return true;
}

template <class Key, class Hash>
caf::actor basic_registry<Key, Hash>::lookup(const Key& key) {
  core_->lookups.inc();
  auto& s = core_->shard_for(key);
  std::lock_guard<std::mutex> guard{s.mutex};
  auto i = s.entries.find(key);
  if (i == s.entries.end() || detail::is_dead(i->second.actor)) {
    return caf::actor{};
  }
  return i->second.actor;
}

template <class Key, class Hash>
start_result basic_registry<Key, Hash>::lookup_or_start_impl(const Key& key, starter start) {
  core_->lookups.inc();
  caf::actor started;
  uint64_t serial = 0;
  {
    caf::actor dropped;  // drop_outside_lock
    auto& s = core_->shard_for(key);
    std::lock_guard<std::mutex> guard{s.mutex};
    auto i = s.entries.find(key);
    if (i != s.entries.end() && !detail::is_dead(i->second.actor)) {
      return start_result{i->second.actor, false};
    }
    core_->starts.inc();
    auto res = start();
    if (!res) {
      return start_result{registry_error::start_failed, std::move(res.error())};
    }
    if (detail::is_dead(*res)) {
      dropped = std::move(*res);
      return start_result{registry_error::start_failed, caf::error{}};
    }
    started = std::move(*res);
    serial = core_->next_serial.fetch_add(1, std::memory_order_relaxed);
    if (i != s.entries.end()) {
      // Replaces a dead holder; its pending hook sees another serial.
      dropped = std::exchange(i->second.actor, started);
      i->second.serial = serial;
    } else {
      s.entries.emplace(key, typename core::entry{started, serial});
      core_->names.add();
    }
  }
  // Outside the lock: if `started` already died, the hook runs right here.
  core_->watch(key, started, serial);
  return start_result{std::move(started), true};
}

template <class Key, class Hash>
size_t basic_registry<Key, Hash>::size() const {
  size_t total = 0;
  for (auto& s : core_->shards) {
    std::lock_guard<std::mutex> guard{s.mutex};
    total += s.entries.size();
  }
  return total;
}

template <class Key, class Hash>
std::vector<Key> basic_registry<Key, Hash>::keys() const {
  std::vector<Key> out;
  for (auto& s : core_->shards) {
    std::lock_guard<std::mutex> guard{s.mutex};
    for (const auto& [key, e] : s.entries) {
      out.push_back(key);
    }
  }
  return out;
}

template <class Key, class Hash>
const std::string& basic_registry<Key, Hash>::name() const noexcept {
  return core_->name;
}

}  // namespace herald::registry
