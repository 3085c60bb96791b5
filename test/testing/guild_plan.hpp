// SPDX-License-Identifier: Apache-2.0
#pragma once
// A guild to seed a feature test with, written the way one describes it: @everyone's
// permissions, roles, members with their roles, channels with their overwrites. Plain value,
// one test thread.
//
//   testing::guild_plan g{guild_id, owner};
//   g.everyone(view_channel | send_messages | read_message_history)
//       .role(mods, pin_messages)
//       .member(alice)
//       .member(bob, {mods})
//       .channel(general)
//       .channel(staff, {testing::everyone_overwrite(0, view_channel),
//                        testing::role_overwrite(mods, view_channel, 0)});
//   sandbox.seed(g);
//
// Invariant: build() holds exactly what was declared (plus the owner as a member and the
// @everyone role, whose id is the guild's, as on Discord).

#include <cstdint>
#include <string>
#include <vector>

#include "actors/domain/guild_state.hpp"

namespace herald::testing {

/// A channel overwrite, its target named before the guild id is known.
struct overwrite {
  enum class target { everyone, role, member };
  target kind = target::everyone;
  uint64_t id = 0;  ///< the role or user id (unused for everyone)
  uint64_t allow = 0;
  uint64_t deny = 0;
};

inline overwrite everyone_overwrite(uint64_t allow, uint64_t deny) {
  return {overwrite::target::everyone, 0, allow, deny};
}
inline overwrite role_overwrite(uint64_t role_id, uint64_t allow, uint64_t deny) {
  return {overwrite::target::role, role_id, allow, deny};
}
inline overwrite member_overwrite(uint64_t user_id, uint64_t allow, uint64_t deny) {
  return {overwrite::target::member, user_id, allow, deny};
}

class guild_plan {
public:
  /// A guild whose @everyone grants permissions::default_everyone; `owner` is a member.
  guild_plan(uint64_t id, uint64_t owner);

  /// @everyone's permissions.
  guild_plan& everyone(uint64_t permissions);
  /// A role (positions in declaration order, name "role<id>" unless given).
  guild_plan& role(uint64_t id, uint64_t permissions, std::string name = {});
  /// A member (user "user<id>") holding `roles`.
  guild_plan& member(uint64_t user_id, std::vector<uint64_t> roles = {});
  /// A text channel (name "channel<id>" unless given) with `overwrites`.
  guild_plan& channel(uint64_t id, std::vector<overwrite> overwrites = {}, std::string name = {});

  uint64_t id() const { return id_; }
  domain::guild_state build() const;

private:
  struct role_plan {
    uint64_t id;
    uint64_t permissions;
    std::string name;
  };
  struct member_plan {
    uint64_t user_id;
    std::vector<uint64_t> roles;
  };
  struct channel_plan {
    uint64_t id;
    std::vector<overwrite> overwrites;
    std::string name;
  };
  uint64_t id_;
  uint64_t owner_;
  uint64_t everyone_;
  std::vector<role_plan> roles_;
  std::vector<member_plan> members_;
  std::vector<channel_plan> channels_;
};

}  // namespace herald::testing
