// SPDX-License-Identifier: Apache-2.0
#pragma once
// A feature's keyed service: actors of one kind found by a uint64 key (a channel id, a
// message id, …), started on demand under the service's own partition supervisor and
// registered by the start function, so a restarted actor is found under the same key.
// Owned by its feature (the platform starts and stops it, see feature_module.hpp); any
// thread may look up or start actors. Invariant: at most one live actor per key (the registry
// plus the key's partition serialise starts); the registry outlives the supervisor.

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <utility>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/expected.hpp>
#include <caf/sec.hpp>
#include <caf/send.hpp>

#include "actors/services/core_events.hpp"
#include "runtime/registry/ensure_started.hpp"
#include "runtime/registry/registry.hpp"
#include "runtime/server/call.hpp"
#include "runtime/supervision/child_spec.hpp"
#include "runtime/supervision/partition_supervisor.hpp"

namespace herald::feature {

struct keyed_service_spec {
  /// Partitions "<name>.<i>" (herald_supervisor_restarts_total) and the registry
  /// (herald_registry_*{registry="<name>"}).
  std::string name;
  /// herald_actors_alive{kind} and the supervision tree's label of every actor.
  std::string kind;
  /// Spawns the actor of a key (not registered: the service registers it).
  registry::keyed_spawn spawn;
  /// permanent: a crashed actor is restarted with its key; transient: actors that may end
  /// normally (idle timeout); temporary: never restarted.
  supervision::restart_type restart = supervision::restart_type::permanent;
  /// Of each partition: a crash loses one key's state, so allow a burst (5 in 5 s).
  supervision::restart_intensity intensity{5, std::chrono::milliseconds{5000}};
};

class keyed_service {
public:
  explicit keyed_service(keyed_service_spec spec);
  ~keyed_service();
  keyed_service(const keyed_service&) = delete;
  keyed_service& operator=(const keyed_service&) = delete;

  /// Starts the partition supervisor (blocking up to `timeout`): a child of `parent`, a dynamic
  /// supervisor (the node's `features`, in its supervision tree), or a root when `parent` is
  /// invalid (tests).
  caf::error start(caf::actor_system& sys, std::chrono::milliseconds timeout,
                   const caf::actor& parent = {});
  /// Stops every actor, then the supervisor (blocking up to `timeout`). Idempotent.
  void stop(std::chrono::milliseconds timeout);

  const std::string& name() const { return spec_.name; }
  /// The system it runs in; null before start().
  caf::actor_system* system() const { return system_.load(std::memory_order_acquire); }
  /// key → live actor (size(), lookups); the service registers and unregisters.
  const registry::id_registry& actors() const { return registry_; }
  /// The partitions that own the actors (count_children, partition_index).
  const supervision::partition_supervisor& supervisor() const { return supervisor_; }
  /// The live actor of `key`, or an invalid handle: starts nothing (for reads).
  caf::actor lookup(uint64_t key) { return registry_.lookup(key); }
  /// Stops every live actor through its partition, without restart (any thread): each is
  /// unregistered at once and stopped asynchronously, and the key's next use starts a fresh
  /// actor, which loads its state from the store. For a clustered node whose
  /// ownership of guilds changed (front_door.hpp): an actor that stayed up while another node
  /// ordered its guild holds an old copy. Returns how many were asked to stop.
  size_t stop_actors();

  /// The live actor of `key`, starting it if needed. Blocking: non-actor threads only.
  caf::expected<caf::actor> ensure_started(uint64_t key, std::chrono::milliseconds timeout);

  /// Calls `done(caf::expected<caf::actor>)` on `self`'s thread with the actor of `key`,
  /// starting it if needed. The service must outlive the answer.
  template <class Self, class Done>
  void ensure_started(Self* self, uint64_t key, std::chrono::milliseconds timeout, Done done) {
    registry::ensure_started(self, registry_, supervisor_, child_, key, timeout, std::move(done));
  }

private:
  keyed_service_spec spec_;
  /// Set by start, cleared by stop (read by observers on guild threads meanwhile).
  std::atomic<caf::actor_system*> system_{nullptr};
  caf::actor parent_;  ///< invalid: the supervisor is a root
  /// Declared before the supervisor: the start function registers here.
  registry::id_registry registry_;
  supervision::partition_supervisor supervisor_;
  supervision::child_spec_ptr child_;
  struct live_actors;
  /// Every actor the start function spawned and that has not exited (for stop_actors).
  std::shared_ptr<live_actors> live_;
};

using keyed_service_ptr = std::shared_ptr<keyed_service>;

/// A server::call result as caf::expected: the actor's own error as is, else
/// sec::request_timeout or sec::request_receiver_down.
template <class T>
caf::expected<T> to_expected(server::call_result<T> r) {
  if (r) {
    return std::move(r.value());
  }
  if (r.cause()) {
    return r.cause();
  }
  if (r.error() == server::call_error::timeout) {
    return caf::make_error(caf::sec::request_timeout);
  }
  return caf::make_error(caf::sec::request_receiver_down, server::to_string(*r.error()));
}

/// Blocking call of the actor of `key` (started if needed): non-actor threads only.
template <class T, class... Ts>
caf::expected<T> call(caf::actor_system& sys, keyed_service& svc, uint64_t key,
                      std::chrono::milliseconds timeout, Ts&&... xs) {
  auto target = svc.ensure_started(key, timeout);
  if (!target) {
    return target.error();
  }
  return to_expected(server::call<T>(sys, *target, timeout, std::forward<Ts>(xs)...));
}

/// Non-blocking call for any thread (REST handlers): a short-lived helper actor finds or
/// starts the actor of `key`, sends `xs` and calls `done(caf::expected<T>)` exactly once, on a
/// CAF worker thread. With `start` false an absent actor answers `absent` instead.
template <class T, class Done, class... Ts>
void ask(caf::actor_system& sys, const keyed_service_ptr& svc, uint64_t key,
         std::chrono::milliseconds timeout, Done done, Ts... xs) {
  sys.spawn([svc, key, timeout, done = std::move(done), xs...](caf::event_based_actor* self) {
    svc->ensure_started(
        self, key, timeout, [self, timeout, done, xs...](caf::expected<caf::actor> a) {
          if (!a) {
            done(caf::expected<T>{std::move(a.error())});
            return;
          }
          self->request(*a, timeout, xs...)
              .then([done](T& x) { done(caf::expected<T>{std::move(x)}); },
                    [done](caf::error& err) { done(caf::expected<T>{std::move(err)}); });
        });
  });
}

/// (observed_atom, dispatch::core_event): what observe_by_key sends a keyed actor. No reply.
using observed_atom = caf::atom_constant<caf::atom("observed")>;

/// A core observer (feature_instance::observer) that forwards each event to the actor of
/// `key_of(event)` in `svc` (0: not for this service, dropped). A live actor gets it at once,
/// from the guild's thread, so after the acks of every publish the guild ordered before the
/// event (core_events.hpp). An absent actor is started first (its state, loaded from the store
/// at start, already holds every change the guild committed before the event), unless
/// `start_absent` is false: then the event is dropped.
template <class KeyOf>
dispatch::core_observer observe_by_key(keyed_service_ptr svc, KeyOf key_of,
                                       bool start_absent = true) {
  return [svc = std::move(svc), key_of, start_absent](const dispatch::core_event& ev) {
    uint64_t key = key_of(ev);
    if (key == 0) {
      return;
    }
    if (auto live = svc->lookup(key)) {
      caf::anon_send(live, observed_atom::value, ev);
      return;
    }
    if (!start_absent || svc->system() == nullptr) {
      return;
    }
    svc->system()->spawn([svc, key, ev](caf::event_based_actor* self) {
      svc->ensure_started(self, key, std::chrono::milliseconds{5000},
                          [self, ev](caf::expected<caf::actor> a) {
                            if (a) {
                              self->send(*a, observed_atom::value, ev);
                            }
                          });
    });
  };
}

}  // namespace herald::feature
