// SPDX-License-Identifier: Apache-2.0
#pragma once
// Gateway intent bits (docs/gateway.md, "Intents") and their validation.
// Header-only constants, used by sessions (what a client asked for) and relays
// (what an event requires). Invariant: known_intents is the OR of every bit
// the gateway accepts; any other bit is refused with close code 4013.

#include <cstdint>

namespace herald::session {

using intents = std::uint32_t;

inline constexpr intents guilds_intent = 1u << 0;
inline constexpr intents guild_members_intent = 1u << 1;
inline constexpr intents guild_presences_intent = 1u << 8;
inline constexpr intents guild_messages_intent = 1u << 9;
/// GUILD_MESSAGE_REACTIONS: MESSAGE_REACTION_* (the reactions feature, features/reactions).
inline constexpr intents guild_message_reactions_intent = 1u << 10;
inline constexpr intents guild_message_typing_intent = 1u << 11;
inline constexpr intents message_content_intent = 1u << 15;

/// Every intent bit Discord defines (bits 0–25 minus the unassigned 22–23);
/// herald filters on the ones above and accepts the rest as no-ops so that
/// clients asking for more than herald serves still connect.
inline constexpr intents known_intents = ((1u << 26) - 1) & ~((1u << 22) | (1u << 23));

constexpr bool valid_intents(uint64_t requested) noexcept {
  return (requested & ~static_cast<uint64_t>(known_intents)) == 0;
}

}  // namespace herald::session
