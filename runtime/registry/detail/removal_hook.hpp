// SPDX-License-Identifier: Apache-2.0
#pragma once
// Internals shared by basic_registry and basic_groups: the attachable that
// removes an entry when its actor dies, the liveness test, and shard hashing.
// Invariant: a hook removes only the entry whose (owner, serial) it was made for.

#include <caf/abstract_actor.hpp>
#include <caf/actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/attachable.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

namespace herald::registry::detail {

/// True if `handle` is invalid or its actor has terminated or begun to.
/// CAF 0.17 sets is_terminated_flag inside monitorable_actor::cleanup *before*
/// it runs attached functors (our removal hooks), and scheduled_actor::quit sets
/// is_shutting_down_flag before that; from either point on the actor drops new
/// messages. Checking the flags closes the window in which an entry still
/// exists but its actor is already dead (the classic stale-pid race).
inline bool is_dead(const caf::actor& handle) noexcept {
  if (!handle) {
    return true;
  }
  auto* ptr = caf::actor_cast<caf::abstract_actor*>(handle);
  return ptr->getf(caf::abstract_actor::is_terminated_flag |
                   caf::abstract_actor::is_shutting_down_flag);
}

/// Identifies one hook for caf::abstract_actor::detach.
struct hook_id {
  /// Arbitrary subtype outside CAF's own (0..3) so no CAF token matches ours.
  static constexpr size_t token_type = 0x6865726c;  // "herl"
  const void* owner;
  uint64_t serial;
};

/// Attachable that calls `on_exit()` once when its actor terminates. CAF runs
/// it on the dying actor's thread (or on the attaching thread if the actor is
/// already dead), outside the actor's own lock; `on_exit` must not block long.
template <class F>
class removal_hook final : public caf::attachable {
public:
  removal_hook(hook_id id, F on_exit) : id_(id), on_exit_(std::move(on_exit)) {}

  void actor_exited(const caf::error&, caf::execution_unit*) override { on_exit_(); }

  bool matches(const token& what) override {
    if (what.subtype != hook_id::token_type) {
      return false;
    }
    const auto* other = static_cast<const hook_id*>(what.ptr);
    return other->owner == id_.owner && other->serial == id_.serial;
  }

private:
  hook_id id_;
  F on_exit_;
};

/// Attaches a removal hook. Never call with a registry shard lock held: if the
/// actor is already dead CAF runs `on_exit` right here, and it takes that lock.
template <class F>
void attach_hook(const caf::actor& handle, hook_id id, F on_exit) {
  auto* ptr = caf::actor_cast<caf::abstract_actor*>(handle);
  ptr->attach(caf::attachable_ptr{new removal_hook<F>(id, std::move(on_exit))});
}

/// Detaches a hook made by attach_hook; a no-op if it already ran.
inline void detach_hook(const caf::actor& handle, hook_id id) {
  if (handle) {
    auto* ptr = caf::actor_cast<caf::abstract_actor*>(handle);
    ptr->detach(caf::attachable::token{hook_id::token_type, &id});
  }
}

/// Spreads hash values over shards. Snowflake ids hashed by std::hash are the
/// identity and their low bits are a per-millisecond sequence (often 0), so
/// the hash is mixed (splitmix64 finaliser) before picking a shard.
inline size_t shard_of(size_t hash, size_t shard_count) noexcept {
  uint64_t x = hash;
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return static_cast<size_t>(x % shard_count);
}

/// Non-owning reference to a callable; lets templates hand `start` to
/// non-template code without allocating. The callable must outlive the call.
template <class Signature>
class function_ref;

template <class R, class... Args>
class function_ref<R(Args...)> {
public:
  template <class F>
  function_ref(F& f) noexcept  // NOLINT: implicit by design
      : obj_(&f), call_([](void* obj, Args... xs) -> R {
          return (*static_cast<F*>(obj))(std::forward<Args>(xs)...);
        }) {}

  R operator()(Args... xs) const { return call_(obj_, std::forward<Args>(xs)...); }

private:
  void* obj_;
  R (*call_)(void*, Args...);
};

}  // namespace herald::registry::detail
