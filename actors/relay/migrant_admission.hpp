// SPDX-License-Identifier: Apache-2.0
#pragma once
// How a relay partition takes in a session migrated from another node (docs/cluster.md,
// "Session migration"): the session already has every event of the guild up to a cursor (its
// old partition's last guild order) and must get exactly the later ones. Owned by its relay
// partition actor and only touched from it.
// Invariant: a migrant joins the partition's subscribers only once it can continue from its
// cursor (replayed from recent_events, or the partition's feed reached it), or after a resync
// (GUILD_DELETE unavailable, then a fresh GUILD_CREATE) when neither is possible.

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/relay/partition_core.hpp"
#include "actors/relay/recent_events.hpp"
#include "actors/relay/relay_messages.hpp"

namespace herald::relay {

/// How one migrant joined.
enum class migrant_outcome {
  current,   ///< the partition was exactly at the cursor
  replayed,  ///< the events after the cursor came from recent_events
  waiting,   ///< the partition is behind the cursor: it joins before the first later event
  resynced,  ///< the gap is not covered: GUILD_DELETE unavailable, then GUILD_CREATE
};

class migrant_admission {
public:
  /// The relay announces a migrant before its subscribe reaches the guild, so this comes
  /// first in the partition's mailbox (one sender's messages arrive in order, and the guild's
  /// add_subscriber is sent after the guild got the subscribe).
  void expect(uint64_t session_id, uint64_t cursor) { expected_[session_id] = cursor; }

  /// For the guild's add_subscriber: nullopt when it is an ordinary subscribe (the caller adds it
  /// with its GUILD_CREATE), else how the expected migrant joined. `unavailable_tail` is the
  /// guild's GUILD_DELETE unavailable:true.
  std::optional<migrant_outcome> admit(partition_core& core, const recent_events& recent,
                                       const add_subscriber& sub,
                                       const std::string& unavailable_tail);

  /// Before the partition delivers an event of `order`: migrants whose cursor is older join.
  void before_event(partition_core& core, uint64_t order);
  bool has_waiting() const noexcept { return !waiting_.empty(); }
  /// The session unsubscribed (or migrated away again) before it joined.
  void forget(uint64_t session_id);

private:
  struct waiting {
    add_subscriber sub;
    uint64_t cursor = 0;
  };
  std::unordered_map<uint64_t, uint64_t> expected_;  // session id → cursor
  std::vector<waiting> waiting_;
};

}  // namespace herald::relay
