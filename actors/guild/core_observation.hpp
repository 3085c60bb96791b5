// SPDX-License-Identifier: Apache-2.0
#pragma once
// The guild's side of core event observation (actors/services/core_events.hpp): which staged
// events observers get, and which message deletes are staged or in flight (so a feature event
// about such a message is refused in guild order). Pure helpers; the guild actor owns the
// values and calls them on its thread.

#include <cstdint>
#include <memory>
#include <unordered_set>

#include "actors/services/core_events.hpp"
#include "proto/domain.pb.h"

namespace herald::guild {

/// The core event observers get for `event` (guild order set by the caller), or null when its
/// kind is not observable or nobody observes it: then it costs a switch and one atomic load.
std::unique_ptr<dispatch::core_event> observed_event(const dispatch::core_observers& observers,
                                                     const proto::event& event, uint64_t guild_id);

/// Ids of messages whose delete the guild has ordered but not yet committed (staged or with
/// the writer). Multiset: a message may be deleted twice in a row (the second one fails in the
/// store, but both are in flight until then).
using pending_deletes = std::unordered_multiset<uint64_t>;

/// The message id `event` deletes, or 0 when it deletes none.
uint64_t deleted_message_of(const proto::event& event);

}  // namespace herald::guild
