// SPDX-License-Identifier: Apache-2.0
#pragma once
// The fan-out loop of one relay partition: its subscribers and the filter
// that decides, per event, who gets which tail. Owned by a relay partition
// actor and only touched from it (single-threaded); writes into session
// buffers, which are thread-safe.
// Invariant: events are delivered in the order deliver() is called, to every
// subscriber whose class may view the event's channel and whose intents match.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "actors/outbound/session_output.hpp"
#include "actors/relay/dispatch_event.hpp"
#include "actors/relay/view_snapshot.hpp"

namespace herald::relay {

/// New visibility published by the guild: the snapshot, members whose class
/// changed, and per changed slot the CHANNEL_CREATE / CHANNEL_DELETE tails a
/// session gaining / losing that channel receives.
struct view_update : caf::ref_counted {
  view_snapshot_ptr view;
  std::vector<std::pair<uint64_t, uint32_t>> class_changes;  // (user id, class), sorted
  std::vector<uint32_t> changed_slots;
  std::vector<std::string> create_tails;  // parallel to changed_slots
  std::vector<std::string> delete_tails;  // parallel to changed_slots
};
using view_update_ptr = caf::intrusive_ptr<const view_update>;

class partition_core {
public:
  /// One subscribed session. Identity is cached next to the class so the
  /// filter touches only this array until it writes.
  struct subscriber {
    session::session_output_ptr output;
    uint64_t user_id;
    uint32_t view_class;
    session::intents granted;
  };

  /// `departed_tail` (the guild's GUILD_DELETE, empty for none) is written to every session
  /// with the GUILDS intent that remove_user() or reset() drops because its user is no longer
  /// a member: the last frame of the guild it gets.
  explicit partition_core(view_snapshot_ptr view, std::string departed_tail = {})
      : view_(std::move(view)), departed_tail_(std::move(departed_tail)) {}

  /// Adds a session with its class; `first_tail` (its GUILD_CREATE), if not
  /// empty, is written to it first. Returns false if already subscribed.
  bool add(session::session_output_ptr output, uint32_t view_class, const std::string& first_tail);
  /// Adds a session migrated from another node, without a GUILD_CREATE (it has the guild): first
  /// writes it each event of `backlog` (guild order: what it missed) it may see. Returns false if
  /// already subscribed.
  bool add_with_backlog(session::session_output_ptr output, uint32_t view_class,
                        const std::vector<const dispatch_event*>& backlog);
  /// Removes a session; returns false if it was not subscribed.
  bool remove(uint64_t session_id);
  /// Removes every session of `user_id` (member left or was removed), each after its
  /// departed_tail.
  size_t remove_user(uint64_t user_id);

  /// Delivers one event; returns how many sessions received it.
  size_t deliver(const dispatch_event& event);
  /// Delivers `events` (guild order) session by session: each eligible
  /// session gets every event it may see, in order, under one lock of its
  /// buffer. `delivered[k]` receives how many sessions got events[k]
  /// (resized to events.size()). Closed sessions receive nothing and are
  /// dropped.
  void deliver(const std::vector<dispatch_event_ptr>& events, std::vector<size_t>& delivered);
  /// Applies new visibility, writing CHANNEL_CREATE/DELETE to sessions that
  /// gain or lose channels. Returns the number of such frames written.
  size_t apply(const view_update& update);
  /// Installs a guild incarnation's view: every subscriber's class is looked
  /// up by user id; subscribers whose user is absent are removed (they are no
  /// longer members) after their departed_tail. Returns how many were removed.
  size_t reset(view_snapshot_ptr view, const std::unordered_map<uint64_t, uint32_t>& class_of_user);

  /// The cursor half of a view_reset (relay_messages.hpp), after reset(): with `replay_from`
  /// (the guild replays its tail after it), a partition whose cursor is older than it resyncs
  /// every subscriber: each with the GUILDS intent gets `unavailable_tail` (GUILD_DELETE with
  /// "unavailable": true) and all are dropped; their users are returned, for the relay to have
  /// their sessions subscribe again (a fresh GUILD_CREATE). Without subscribers the cursor moves
  /// to replay_from (or to `at` without a replay), since nothing older needs delivering.
  std::vector<uint64_t> sync(stream_position at, const std::optional<stream_position>& replay_from,
                             const std::string& unavailable_tail);
  /// Whether an event with a position is after the cursor (then it becomes the cursor); false
  /// for one at or before it, which the partition has delivered already (a replay overlapping
  /// the live stream) and must drop. Events without a position always pass.
  bool take(const dispatch_event& event) noexcept;
  /// take() for each event of a batch (guild order); returns how many it dropped. When none,
  /// `fresh` is left empty: the whole batch is to be delivered (the usual case, no copy).
  /// Otherwise `fresh` holds the events after the cursor, in order. A batch of one event (a tail
  /// replay of one) is fresh exactly when that event is after the cursor.
  size_t take_batch(const std::vector<dispatch_event_ptr>& events,
                    std::vector<dispatch_event_ptr>& fresh);
  stream_position cursor() const noexcept { return cursor_; }

  size_t size() const noexcept { return subscribers_.size(); }
  const view_snapshot& view() const noexcept { return *view_; }

private:
  /// Whether subscriber `s` may receive `event` (class and intents).
  bool eligible(const subscriber& s, const dispatch_event& event) const noexcept {
    if (event.required_intents != 0 && (s.granted & event.required_intents) == 0) {
      return false;
    }
    return event.channel_slot == no_channel_slot ||
           view_->can_view(s.view_class, event.channel_slot);
  }
  void drop_closed();
  /// Writes departed_tail_ to `s` if it has the GUILDS intent.
  void tell_departed(const subscriber& s);

  std::vector<subscriber> subscribers_;
  std::unordered_map<uint64_t, uint32_t> index_by_session_;  // session id → slot in subscribers_
  view_snapshot_ptr view_;
  std::string departed_tail_;
  stream_position cursor_;  // the last event taken (take) or where sync() left the stream
};

}  // namespace herald::relay
