// SPDX-License-Identifier: Apache-2.0
#pragma once
// Reaction values and the MESSAGE_REACTION_ADD / _REMOVE dispatches built from
// them, as custom_dispatch events for the guild. Pure functions, any thread.
// Invariant: payloads have Discord's documented shape (ids as strings, emoji
// {id, name}) and require the GUILD_MESSAGE_REACTIONS intent.

#include <cstdint>
#include <optional>
#include <string>

#include <caf/allowed_unsafe_message_type.hpp>

#include "actors/feature/permission_check.hpp"
#include "actors/outbound/intents.hpp"
#include "proto/domain.pb.h"

namespace herald::reactions {

/// GUILD_MESSAGE_REACTIONS (1 << 10), the intent every reaction event needs.
inline constexpr session::intents guild_message_reactions_intent =
    session::guild_message_reactions_intent;

/// Longest emoji name accepted, in bytes.
inline constexpr size_t max_emoji_name = 64;

/// A unicode emoji (id_ 0, name_ the characters) or a custom one (id_ set).
struct emoji {
  uint64_t id_ = 0;
  std::string name_;
};

/// Counting key: the name for unicode emoji, "name:id" for custom ones.
std::string key_of(const emoji& e);
/// Non-empty name of at most max_emoji_name bytes.
bool valid_emoji(const emoji& e);
/// The emoji of a REST path segment, already percent-decoded: "👍" (unicode) or "name:id"
/// (custom); nullopt when invalid.
std::optional<emoji> parse_emoji(const std::string& decoded);

/// One user's reaction as Discord describes it.
struct reaction {
  uint64_t guild_id_ = 0;
  uint64_t channel_id_ = 0;
  uint64_t message_id_ = 0;
  uint64_t user_id_ = 0;
  emoji emoji_;
};

/// The `d` object: {user_id, channel_id, message_id, guild_id, emoji, …}.
std::string payload_json(const reaction& r, bool added);

/// A custom_dispatch event for reaction `r`: MESSAGE_REACTION_ADD when
/// `added`, else MESSAGE_REACTION_REMOVE; channel-scoped, reactions intent,
/// checked by the guild against `check`.
proto::event reaction_event(const reaction& r, bool added, const feature::permission_check& check);

}  // namespace herald::reactions

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::reactions::emoji)
