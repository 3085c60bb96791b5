// SPDX-License-Identifier: Apache-2.0
#pragma once
// Local unique-key registry: key -> live actor, removed automatically when the
// actor dies. Owned by whoever creates it (usually one per node and key kind);
// any thread may call it. Invariant: lookups never return a dead actor, and a
// death removes only the entry that still holds that same registration.
//
// Keys: one template, two instantiations compiled once in registry.cpp —
// name_registry (std::string) and id_registry (uint64_t, e.g. guild snowflake
// ids). Other key types work by including detail/registry_impl.hpp.
//
// Concurrency: `shard_count` shards (default 64), each a mutex plus an
// unordered_map; a key's shard is picked from its mixed hash. No operation
// holds two shard locks, and no CAF call that can run a removal hook is made
// while a shard lock is held (hooks take the shard lock themselves).
//
// Lifetime: entries hold strong handles, so a registered actor stays
// reachable. Destroy the registry before its caf::actor_system. Removal hooks
// hold only a weak pointer to the registry's state, so actors may outlive it.

#include "runtime/registry/detail/removal_hook.hpp"
#include "runtime/registry/registry_error.hpp"

#include <caf/actor.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace herald::registry {

/// Shard count used when none is given: enough that 2–64 threads rarely meet
/// on one mutex, small enough that an empty registry stays a few KiB.
inline constexpr size_t default_shard_count = 64;

/// Result of lookup_or_start: the live actor, or why there is none.
class start_result {
public:
  start_result(caf::actor actor, bool started) : actor_(std::move(actor)), started_(started) {}
  start_result(registry_error error, caf::error cause) : error_(error), cause_(std::move(cause)) {}

  bool ok() const noexcept { return !error_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }
  /// The live actor; invalid when !ok().
  const caf::actor& actor() const noexcept { return actor_; }
  /// True if this call ran `start` (and registered its actor).
  bool started() const noexcept { return started_; }
  /// Set when !ok().
  std::optional<registry_error> error() const noexcept { return error_; }
  /// The error `start` returned, if it returned one.
  const caf::error& cause() const noexcept { return cause_; }

private:
  caf::actor actor_;
  bool started_ = false;
  std::optional<registry_error> error_;
  caf::error cause_;
};

template <class Key, class Hash = std::hash<Key>>
class basic_registry {
public:
  /// `name` labels this registry's metrics (herald_registry_*{registry=name}).
  explicit basic_registry(std::string name, size_t shard_count = default_shard_count);
  ~basic_registry();
  basic_registry(const basic_registry&) = delete;
  basic_registry& operator=(const basic_registry&) = delete;

  /// Registers `actor` under `key`. Fails with key_taken if a live actor
  /// holds the key, dead_actor if `actor` is invalid or dead. A dead holder
  /// whose removal has not run yet is replaced.
  std::optional<registry_error> register_actor(const Key& key, const caf::actor& actor);

  /// Removes `key` whatever it holds; false if absent.
  bool unregister(const Key& key);

  /// Removes `key` only while `actor` holds it; false otherwise.
  bool unregister(const Key& key, const caf::actor& actor);

  /// The live actor under `key`, or an invalid handle.
  caf::actor lookup(const Key& key);

  /// The live actor under `key`; if there is none, calls `start()` and
  /// registers its result, atomically: concurrent callers with one key get
  /// one actor and `start` runs once. A registered actor that has terminated
  /// (even if its removal hook has not run yet) counts as absent.
  ///
  /// `start` is any callable returning caf::actor or caf::expected<caf::actor>.
  /// It runs on the caller's thread *while the key's shard lock is held*: it
  /// must be fast, must not call back into this registry (deadlock), and
  /// blocks every other key of the shard meanwhile. Spawning is fine; a
  /// synchronous call to a supervisor is allowed but holds the shard for a
  /// full round trip (tens of µs), so prefer spawning and linking afterwards.
  template <class Start>
  start_result lookup_or_start(const Key& key, Start&& start);

  /// Number of entries, counting dead ones whose removal has not run yet.
  size_t size() const;

  /// Every key registered now (dead holders whose removal has not run yet included), in no
  /// order: a snapshot, taken shard by shard.
  std::vector<Key> keys() const;

  const std::string& name() const noexcept;

private:
  struct core;
  using starter = detail::function_ref<caf::expected<caf::actor>()>;
  start_result lookup_or_start_impl(const Key& key, starter start);

  std::shared_ptr<core> core_;
};

template <class Key, class Hash>
template <class Start>
start_result basic_registry<Key, Hash>::lookup_or_start(const Key& key, Start&& start) {
  using result_type = std::invoke_result_t<Start&>;
  static_assert(std::is_convertible_v<result_type, caf::expected<caf::actor>>,
                "start must return caf::actor or caf::expected<caf::actor>");
  auto wrapped = [&start]() -> caf::expected<caf::actor> { return start(); };
  return lookup_or_start_impl(key, starter{wrapped});
}

/// Registry keyed by name (std::string).
using name_registry = basic_registry<std::string>;
/// Registry keyed by 64-bit id (guild and channel snowflakes).
using id_registry = basic_registry<uint64_t>;

extern template class basic_registry<std::string>;
extern template class basic_registry<uint64_t>;

}  // namespace herald::registry
