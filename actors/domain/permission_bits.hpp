// SPDX-License-Identifier: Apache-2.0
#pragma once
// Discord permission bit constants (values from Discord's public API reference).
// Header-only constants; no owner, no threads.
// Invariant: all_permissions is exactly the OR of every named bit below.

#include <cstdint>

namespace herald::permissions {

using bits = std::uint64_t;

inline constexpr bits create_instant_invite = bits{1} << 0;
inline constexpr bits kick_members = bits{1} << 1;
inline constexpr bits ban_members = bits{1} << 2;
inline constexpr bits administrator = bits{1} << 3;
inline constexpr bits manage_channels = bits{1} << 4;
inline constexpr bits manage_guild = bits{1} << 5;
inline constexpr bits add_reactions = bits{1} << 6;
inline constexpr bits view_audit_log = bits{1} << 7;
inline constexpr bits priority_speaker = bits{1} << 8;
inline constexpr bits stream = bits{1} << 9;
inline constexpr bits view_channel = bits{1} << 10;
inline constexpr bits send_messages = bits{1} << 11;
inline constexpr bits send_tts_messages = bits{1} << 12;
inline constexpr bits manage_messages = bits{1} << 13;
inline constexpr bits embed_links = bits{1} << 14;
inline constexpr bits attach_files = bits{1} << 15;
inline constexpr bits read_message_history = bits{1} << 16;
inline constexpr bits mention_everyone = bits{1} << 17;
inline constexpr bits use_external_emojis = bits{1} << 18;
inline constexpr bits view_guild_insights = bits{1} << 19;
inline constexpr bits connect = bits{1} << 20;
inline constexpr bits speak = bits{1} << 21;
inline constexpr bits mute_members = bits{1} << 22;
inline constexpr bits deafen_members = bits{1} << 23;
inline constexpr bits move_members = bits{1} << 24;
inline constexpr bits use_vad = bits{1} << 25;
inline constexpr bits change_nickname = bits{1} << 26;
inline constexpr bits manage_nicknames = bits{1} << 27;
inline constexpr bits manage_roles = bits{1} << 28;
inline constexpr bits manage_webhooks = bits{1} << 29;
inline constexpr bits manage_guild_expressions = bits{1} << 30;
inline constexpr bits use_application_commands = bits{1} << 31;
inline constexpr bits request_to_speak = bits{1} << 32;
inline constexpr bits manage_events = bits{1} << 33;
inline constexpr bits manage_threads = bits{1} << 34;
inline constexpr bits create_public_threads = bits{1} << 35;
inline constexpr bits create_private_threads = bits{1} << 36;
inline constexpr bits use_external_stickers = bits{1} << 37;
inline constexpr bits send_messages_in_threads = bits{1} << 38;
inline constexpr bits use_embedded_activities = bits{1} << 39;
inline constexpr bits moderate_members = bits{1} << 40;
inline constexpr bits view_creator_monetization_analytics = bits{1} << 41;
inline constexpr bits use_soundboard = bits{1} << 42;
inline constexpr bits create_guild_expressions = bits{1} << 43;
inline constexpr bits create_events = bits{1} << 44;
inline constexpr bits use_external_sounds = bits{1} << 45;
inline constexpr bits send_voice_messages = bits{1} << 46;
inline constexpr bits send_polls = bits{1} << 49;
inline constexpr bits use_external_apps = bits{1} << 50;
/// Pin and unpin messages. Discord split it from MANAGE_MESSAGES in August 2025 and granted it
/// wherever MANAGE_MESSAGES was; herald's stores do the same once (pin_split_of below).
inline constexpr bits pin_messages = bits{1} << 51;

/// Every bit above: what the owner and ADMINISTRATOR holders get.
inline constexpr bits all_permissions =
    ((bits{1} << 47) - 1) | send_polls | use_external_apps | pin_messages;

/// What a new guild's @everyone role grants: see, talk, read history, react,
/// embed, attach, invite, change nickname, use commands and threads.
inline constexpr bits default_everyone =
    create_instant_invite | add_reactions | stream | view_channel | send_messages | embed_links |
    attach_files | read_message_history | use_external_emojis | connect | speak | use_vad |
    change_nickname | use_application_commands | request_to_speak | create_public_threads |
    send_messages_in_threads;

/// A permission value (a role's, an overwrite's allow or deny) as Discord's split left it:
/// PIN_MESSAGES added where MANAGE_MESSAGES is set, anything else unchanged. Applied to every
/// stored role and overwrite by the store's pin-split migration (docs/store.md); values set
/// after it are taken as given (MANAGE_MESSAGES alone no longer allows pinning).
constexpr bits pin_split_of(bits value) {
  return (value & manage_messages) != 0 ? value | pin_messages : value;
}

}  // namespace herald::permissions
