// SPDX-License-Identifier: Apache-2.0
#pragma once
// The pins feature (features.enabled = ["pins"]; docs/gateway.md, "Pins"): Discord's pin REST
// routes, current and legacy, CHANNEL_PINS_UPDATE (intent GUILDS), `pinned` in message
// objects, pins dropped with their message or channel, state in the store. One pin board per
// channel (pin_board.hpp). Handlers run in the REST layer's short-lived actors.
//   PUT|DELETE /channels/{c}/messages/pins/{m}, /channels/{c}/pins/{m}   → 204
//   GET /channels/{c}/messages/pins?before=ISO8601&limit=1..50  → {items:[{pinned_at, message}],
//                                                                   has_more}
//   GET /channels/{c}/pins                                      → [message], newest first
// Invariant: a pin change is checked by the guild in the step that orders its event.

#include "actors/feature/feature_module.hpp"

namespace herald::pins {

/// The feature module heraldd links (features/CMakeLists.txt lists it).
feature::feature_module feature_module();

}  // namespace herald::pins
