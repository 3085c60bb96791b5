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

/// The feature's name: its features.enabled entry and its rows in the store's feature state.
inline constexpr const char* feature_name = "reactions";

/// A custom_dispatch event for reaction `r`: MESSAGE_REACTION_ADD when
/// `added`, else MESSAGE_REACTION_REMOVE; channel-scoped, reactions intent,
/// checked by the guild against `check` and the message's existence, carrying
/// the state write (put or erase of state_key(r)) the guild commits with it.
proto::event reaction_event(const reaction& r, bool added, const feature::permission_check& check);

/// Stored state: one entry per reaction, key "<channel>/<message>/<user>/<emoji key>", value
/// "<emoji id>:<emoji name>". Prefixes select a channel's or a message's reactions.
std::string channel_prefix(uint64_t channel_id);
std::string message_prefix(uint64_t channel_id, uint64_t message_id);
std::string state_key(const reaction& r);
std::string state_value(const emoji& e);
/// The reaction of a stored entry (guild_id_ 0), or nullopt when it is malformed.
std::optional<reaction> from_state(const std::string& key, const std::string& value);

}  // namespace herald::reactions

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::reactions::emoji)
