// SPDX-License-Identifier: Apache-2.0
#pragma once
// Discord's permission algorithm over a guild_state, plus who-can-view helpers and view diffs.
// Pure functions; called by the guild actor (and relays) on their own thread, no shared state.
// Invariant: results equal Discord's documented computation, then the implicit rules listed below.
//
// Algorithm (https://discord.com/developers/docs/topics/permissions):
//   base  = @everyone.permissions | each member role's permissions
//   owner or (base & ADMINISTRATOR) -> all_permissions, no overwrites or implicit rules
//   perms = base; apply @everyone overwrite   (perms &= ~deny; perms |= allow)
//   apply member-role overwrites combined     (deny = OR of denies, allow = OR of allows)
//   apply the member's own overwrite          (deny, then allow)
// Implicit rules implemented (applied after overwrites, never to owner/admin):
//   1. no VIEW_CHANNEL  -> no permission at all in the channel (result 0)
//   2. no SEND_MESSAGES -> no SEND_TTS_MESSAGES, MENTION_EVERYONE, EMBED_LINKS, ATTACH_FILES
// Not implemented: thread, voice-CONNECT and timeout (MODERATE_MEMBERS) implicit rules.

#include <optional>
#include <unordered_map>
#include <vector>

#include "actors/domain/guild_state.hpp"
#include "actors/domain/permission_bits.hpp"
#include "proto/domain.pb.h"

namespace herald::permissions {

using domain::snowflake;

/// True when every bit of `need` is in `have`.
constexpr bool has(bits have, bits need) {
  return (have & need) == need;
}

/// Guild-level permissions of a member (no channel overwrites).
bits base_permissions(const domain::guild_state& guild, const domain::member& member);

/// Permissions of a member in a channel, implicit rules included.
bits channel_permissions(const domain::guild_state& guild, const domain::channel& channel,
                         const domain::member& member);

/// As above by ids: 0 when the user is not a member or the channel is unknown.
bits channel_permissions(const domain::guild_state& guild, snowflake channel_id, snowflake user_id);

/// Sorted ids of the channels the member can view.
std::vector<snowflake> visible_channels(const domain::guild_state& guild,
                                        const domain::member& member);

/// Per member user id, the sorted channel ids that member can view.
using view_map = std::unordered_map<snowflake, std::vector<snowflake>>;

/// Views of every member of the guild.
view_map compute_views(const domain::guild_state& guild);

/// Views of the given users; a user who is not a member gets an empty list.
view_map compute_views(const domain::guild_state& guild, const std::vector<snowflake>& user_ids);

/// One (member, channel) pair whose VIEW_CHANNEL outcome changed.
struct view_change {
  snowflake user_id_ = 0;
  snowflake channel_id_ = 0;
  bool visible_ = false;  // true: gained (send CHANNEL_CREATE); false: lost (CHANNEL_DELETE)
};

/// Changes from `before` to `after`, sorted by (user, channel). A user missing
/// from one side counts as seeing nothing there.
std::vector<view_change> diff_views(const view_map& before, const view_map& after);

/// Which members' views an event may change, evaluated on the state BEFORE the
/// event is applied: nullopt means every member (channel and @everyone changes,
/// ownership transfers are listed explicitly); an empty list means none
/// (messages, typing). Use it to bound compute_views around an apply:
///   scope = view_scope(state, ev); before = compute_views(state, *scope or all);
///   state.apply(ev); after = compute_views(state, same users); diff_views(...).
std::optional<std::vector<snowflake>> view_scope(const domain::guild_state& guild,
                                                 const proto::event& event);

}  // namespace herald::permissions
