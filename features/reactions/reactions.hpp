// SPDX-License-Identifier: Apache-2.0
#pragma once
// The reactions feature's service: counter actors by channel id (a
// feature::keyed_service), plus the blocking API tests and tools call. Owned by
// whoever starts it (the node's feature set, or a test); any non-actor thread may
// call the API. Invariant: at most one live counter per channel id.

#include <chrono>
#include <cstdint>
#include <memory>

#include <caf/actor.hpp>
#include <caf/expected.hpp>

#include "actors/feature/keyed_service.hpp"
#include "actors/feature/permission_check.hpp"
#include "actors/services/services.hpp"
#include "features/reactions/reaction_counter.hpp"

namespace herald::reactions {

/// Default wait of the blocking calls below: 5 s (server::default_call_timeout).
inline constexpr std::chrono::milliseconds default_timeout{5000};

struct reactions_service {
  explicit reactions_service(dispatch::services_ptr dispatch_services);

  dispatch::services_ptr dispatch;
  /// channel id → counter; partitions "reactions.<i>", registry "reaction_counters".
  feature::keyed_service_ptr counters;
};

using reactions_ptr = std::shared_ptr<reactions_service>;

/// The core events whose reactions go: MESSAGE_DELETE (that message's) and CHANNEL_DELETE
/// (the channel's), forwarded to the channel's counter (started if needed: it drops their
/// stored reactions).
std::vector<dispatch::core_event_kind> observed_kinds();
dispatch::core_observer observer_of(const reactions_ptr& rx);

/// Starts the counters' partition supervisor as a root (blocking up to
/// `timeout`) and registers observer_of with the services' observers (the
/// path tests take; a node builds the feature module instead).
/// `dispatch_services` must be started and outlive the feature.
caf::expected<reactions_ptr> start_reactions(const dispatch::services_ptr& dispatch_services,
                                             std::chrono::milliseconds timeout = default_timeout);

/// Stops every counter, then the supervisor (blocking up to `timeout`).
void stop_reactions(const reactions_ptr& rx, std::chrono::milliseconds timeout = default_timeout);

/// The live counter of `channel_id`, starting it if needed.
caf::expected<caf::actor> counter_of(const reactions_ptr& rx, uint64_t channel_id,
                                     std::chrono::milliseconds timeout = default_timeout);

/// `user_id` reacts to a message with `e`; returns that emoji's count after
/// it. Dispatches MESSAGE_REACTION_ADD once (not on a repeat), checked by the
/// guild against `check` (default: the system, unchecked). Errors: see
/// add_atom; sec::request_timeout when no reply came in `timeout`.
caf::expected<uint64_t> add_reaction(const reactions_ptr& rx, uint64_t channel_id,
                                     uint64_t message_id, uint64_t user_id, const emoji& e,
                                     std::chrono::milliseconds timeout = default_timeout,
                                     feature::permission_check check = {});

/// Withdraws that reaction; returns the count left. See remove_atom.
caf::expected<uint64_t> remove_reaction(const reactions_ptr& rx, uint64_t channel_id,
                                        uint64_t message_id, uint64_t user_id, const emoji& e,
                                        std::chrono::milliseconds timeout = default_timeout,
                                        feature::permission_check check = {});

/// The message's counts per emoji (empty if none); starts the channel's counter if needed.
caf::expected<reaction_counts> counts(const reactions_ptr& rx, uint64_t channel_id,
                                      uint64_t message_id,
                                      std::chrono::milliseconds timeout = default_timeout);

}  // namespace herald::reactions
