// SPDX-License-Identifier: Apache-2.0
#pragma once
// The reactions feature's Discord REST routes (docs/gateway.md, "Reactions"), mounted by the
// platform with the core routes' auth, rate limit, offload and error shapes. Handlers run in
// the REST layer's short-lived actors and never block on a counter (feature::ask).
//   PUT    /channels/{c}/messages/{m}/reactions/{emoji}/@me    → 204, MESSAGE_REACTION_ADD
//   DELETE /channels/{c}/messages/{m}/reactions/{emoji}/@me    → 204, MESSAGE_REACTION_REMOVE
//   DELETE /channels/{c}/messages/{m}/reactions/{emoji}/{user} → 204 (MANAGE_MESSAGES)
//   GET    /channels/{c}/messages/{m}/reactions/{emoji}        → [user] (?limit=1..100&after=ID)
// Invariant: permissions of writes are checked by the guild as it orders the event.

#include <vector>

#include "actors/feature/feature_module.hpp"
#include "features/reactions/reactions.hpp"

namespace herald::reactions {

/// The four routes, bound to `rx` (which must outlive the mounted server's handlers).
std::vector<feature::route> reaction_routes(reactions_ptr rx);

/// Discord's `reactions` in the message objects REST returns (counts, `me`), from the channel's
/// counter (started if needed: its state is in the store).
rest::message_decorator reactions_decorator(reactions_ptr rx);

/// The feature module heraldd links (features/CMakeLists.txt lists it).
feature::feature_module feature_module();

}  // namespace herald::reactions
