// SPDX-License-Identifier: Apache-2.0
#pragma once
// In-memory authoritative state of one guild: guild info, roles, channels, members and their users.
// Owned by the guild's actor (one per guild, on its owner node); single-threaded, not shared.
// Invariant: the @everyone role (id == guild id) always exists, and every member role id names a
// role.

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "actors/domain/types.hpp"
#include "proto/domain.pb.h"

namespace herald::domain {

/// Why an event was refused. Nothing changed when an apply returns anything but ok.
enum class apply_error : std::uint8_t {
  ok,                  ///< applied (or, for checks, valid)
  wrong_guild,         ///< the event or object names another guild
  empty_event,         ///< the event envelope carries no payload
  unknown_channel,     ///< no channel with that id in this guild
  unknown_role,        ///< no role with that id in this guild
  unknown_member,      ///< that user is not a member of this guild
  channel_exists,      ///< create of a channel id already present
  role_exists,         ///< create of a role id already present (incl. @everyone)
  member_exists,       ///< add of a user who already is a member
  everyone_protected,  ///< the @everyone role cannot be deleted
  owner_protected,     ///< the guild owner cannot be removed
  invalid_overwrite,   ///< overwrite of unknown type or duplicated (type, id)
  user_mismatch,       ///< a member's user object has a different id
};

const char* to_string(apply_error error);

/// A member together with its user object (the gateway sends both).
struct member_entry {
  member member_;
  user user_;
};

class guild_state {
public:
  /// A guild holding only its @everyone role (permissions::default_everyone).
  explicit guild_state(guild info);

  snowflake id() const { return info_.id_; }
  const guild& info() const { return info_; }
  const role& everyone_role() const;

  const role* find_role(snowflake role_id) const;
  const channel* find_channel(snowflake channel_id) const;
  const member* find_member(snowflake user_id) const;
  const user* find_user(snowflake user_id) const;

  /// Roles sorted by id; the @everyone role is among them.
  const std::vector<role>& roles() const { return roles_; }
  /// Channels sorted by id.
  const std::vector<channel>& channels() const { return channels_; }
  /// Members keyed by user id.
  const std::unordered_map<snowflake, member_entry>& members() const { return members_; }
  std::size_t member_count() const { return members_.size(); }

  // Trusted restore (the store's loader, tests): insert or replace without
  // checking references. Role ids of members are normalised (sorted, unique,
  // @everyone dropped); replacing the @everyone role keeps its id.
  void restore_role(role value);
  void restore_channel(channel value);
  void restore_member(member value, user who);

  /// Validates and applies one event of this guild; checks message and
  /// typing events without changing state (messages live in the store).
  apply_error apply(const proto::event& event);

  /// GUILD_MEMBER_ADD. Errors: user_mismatch, member_exists, unknown_role.
  apply_error add_member(member value, user who);
  /// GUILD_MEMBER_UPDATE: replaces the member's roles and joined_at (and its
  /// user object when `who` is given). Errors: user_mismatch, unknown_member,
  /// unknown_role.
  apply_error update_member(member value, const std::optional<user>& who);
  /// GUILD_MEMBER_REMOVE; the member's overwrites stay, as on Discord.
  /// Errors: owner_protected, unknown_member.
  apply_error remove_member(snowflake user_id);
  /// CHANNEL_CREATE; a zero guild id is filled in. Role overwrites must name
  /// known roles; member overwrites may name anyone. Errors: channel_exists,
  /// wrong_guild, invalid_overwrite, unknown_role.
  apply_error create_channel(channel value);
  /// CHANNEL_UPDATE: replaces the channel, overwrites included. Errors as
  /// create, with unknown_channel instead of channel_exists.
  apply_error update_channel(channel value);
  /// CHANNEL_DELETE. Errors: unknown_channel.
  apply_error delete_channel(snowflake channel_id);
  /// GUILD_ROLE_CREATE. Errors: role_exists.
  apply_error create_role(role value);
  /// GUILD_ROLE_UPDATE (the @everyone role included). Errors: unknown_role.
  apply_error update_role(role value);
  /// GUILD_ROLE_DELETE; also removes the role from every member and every
  /// channel's overwrites. Errors: everyone_protected, unknown_role.
  apply_error delete_role(snowflake role_id);
  /// GUILD_UPDATE: renames or transfers ownership; a new owner must be a
  /// member. Errors: wrong_guild, unknown_member.
  apply_error update_guild(const guild& value);

  /// A message may be created: same guild, known channel, author is a member.
  apply_error check_message_create(const message& value) const;
  /// A message of this channel may be edited or deleted: known channel.
  apply_error check_message_target(snowflake channel_id) const;
  /// A member may type in a known channel.
  apply_error check_typing(snowflake channel_id, snowflake user_id) const;

private:
  apply_error validate_channel(channel& value) const;
  apply_error normalise_member(member& value) const;

  guild info_;
  std::vector<role> roles_;        // sorted by id, contains @everyone
  std::vector<channel> channels_;  // sorted by id
  std::unordered_map<snowflake, member_entry> members_;
};

}  // namespace herald::domain
