// SPDX-License-Identifier: Apache-2.0
#pragma once
// Core events that features observe (issue #14, docs/writing-actors.md "Observing core
// events"): the guild hands each committed event of an observed kind, in guild order, to every
// observer registered for that kind. The registry is node-wide (dispatch::services::observers);
// observers are added at start-up by the feature platform (actors/feature/feature_set) on the
// node's start thread, and read by guild actors on CAF worker threads.
//
// Invariants:
// - An observer runs on the guild actor's thread, after the event's batch is durable and its
//   dispatch is on its way to the relays, after the ack of every event the guild ordered before
//   it (feature publishes included) and before the event's own ack: a feature actor gets its
//   publishes' acks and the observed events in guild order, and what an observer sends to an
//   actor is in that actor's mailbox before the producer of the event learns it was done.
// - No observer registered for a kind: the guild does no work for it beyond one relaxed atomic
//   load per event of an observable kind (message create is not observable: never any cost).
// - An observer must not block: it sends a message (e.g. to a keyed actor) and returns.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>

namespace herald::dispatch {

/// The core events a feature may observe. Bits of a core_event_mask.
enum class core_event_kind : uint8_t {
  message_delete = 0,  ///< one message deleted; bulk deletes carry several message_ids
  channel_delete = 1,  ///< a channel (and so every message in it) deleted
  member_remove = 2,   ///< a user stopped being a member
  role_update = 3,     ///< a role's permissions or attributes changed
  role_delete = 4,     ///< a role deleted (dropped from members and overwrites)
};

using core_event_mask = uint32_t;

constexpr core_event_mask mask_of(core_event_kind k) {
  return core_event_mask{1} << static_cast<uint8_t>(k);
}

/// The dispatch name of `k` ("MESSAGE_DELETE", "CHANNEL_DELETE", "GUILD_MEMBER_REMOVE",
/// "GUILD_ROLE_UPDATE", "GUILD_ROLE_DELETE"): how docs and logs name it.
const char* name_of(core_event_kind k);

/// One committed core event, as observers get it. Plain value; fields not of the kind are 0.
struct core_event {
  core_event_kind kind = core_event_kind::message_delete;
  uint64_t guild_id = 0;
  uint64_t guild_order = 0;           ///< the event's position in its guild's order
  uint64_t channel_id = 0;            ///< message_delete, channel_delete
  std::vector<uint64_t> message_ids;  ///< message_delete (one, or several for a bulk delete)
  uint64_t user_id = 0;               ///< member_remove
  uint64_t role_id = 0;               ///< role_update, role_delete
};

/// Runs on the guild's thread; must not block (see the invariants above).
using core_observer = std::function<void(const core_event&)>;

/// The node's observers, by kind. add() on the start thread; mask() and deliver() from any
/// thread (guild actors). Observers are never removed: a node stops its guilds before the
/// features whose observers they call, and an observer outliving its feature's actors only
/// sends to dead handles.
class core_observers {
public:
  /// Registers `observer` for the kinds of `kinds` (0: nothing registered). `feature` names it
  /// in logs.
  void add(std::string feature, core_event_mask kinds, core_observer observer);

  /// Drops every observer (stop_services does, once no guild delivers any more). Observers
  /// usually hold the services (a feature's state or publisher), which hold this list: without
  /// clear() that cycle would keep the services, their store writer and the store alive.
  void clear();

  /// The kinds someone observes. One relaxed atomic load.
  core_event_mask mask() const { return mask_.load(std::memory_order_acquire); }

  /// Calls every observer of `ev.kind`, in registration order.
  void deliver(const core_event& ev) const;

private:
  struct entry {
    std::string feature;
    core_event_mask kinds;
    core_observer observer;
  };
  /// Copied on add (rare); deliver() copies the pointer under mutex_, only for events whose kind
  /// mask() says someone observes.
  mutable std::mutex mutex_;
  std::shared_ptr<const std::vector<entry>> entries_ = std::make_shared<std::vector<entry>>();
  std::atomic<core_event_mask> mask_{0};
};

}  // namespace herald::dispatch

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::dispatch::core_event)
