// SPDX-License-Identifier: Apache-2.0
#pragma once
// Writers of Discord API objects (user, member, role, channel, message, guild) into a json_writer.
// Pure functions called by the guild encoders on the guild actor's thread.
// Invariant: documented fields present (defaults if herald has none), ids strings, no null arrays.

#include <cstddef>

#include "actors/domain/guild_state.hpp"
#include "actors/domain/types.hpp"
#include "actors/encoding/detail/json_writer.hpp"

namespace herald::encoding::detail {

/// Discord's default max_members for a guild (their public reference).
inline constexpr std::int64_t max_members = 500000;

void write_user(json_writer& w, const domain::user& who);

/// User fields only (no braces), for objects that extend a user (mentions, READY).
void write_user_fields(json_writer& w, const domain::user& who);

/// A guild member object; `who` null leaves out the `user` field
/// (the partial member of MESSAGE_CREATE and of mentions).
void write_member(json_writer& w, const domain::member& m, const domain::user* who);

/// Member fields only (no braces), for events that add guild_id beside them.
void write_member_fields(json_writer& w, const domain::member& m, const domain::user* who);

void write_role(json_writer& w, const domain::role& r);

void write_channel(json_writer& w, const domain::channel& ch);

/// The message object; `redacted` blanks what MESSAGE_CONTENT gates
/// (content, embeds, attachments, components). Mentions of users that are
/// not members are left out; an author who left is shown as "Deleted User".
/// Where write_message put the content's string literal (quotes included): [begin_, end_) of
/// the writer's output.
struct content_span {
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};
void write_message(json_writer& w, const domain::guild_state& state, const domain::message& msg,
                   bool redacted, content_span* content = nullptr);

/// Fields of the guild object shared by GUILD_CREATE and GUILD_UPDATE, no braces.
void write_guild_fields(json_writer& w, const domain::guild_state& state);

}  // namespace herald::encoding::detail
