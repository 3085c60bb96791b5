// SPDX-License-Identifier: Apache-2.0
#pragma once
// Plain value types of the dispatch domain: user, role, overwrite, channel, member, guild, message.
// Owned by whoever holds them (guild_state, the store, a request); copied freely, no threads.
// Invariant: every id is a snowflake; times are Unix-epoch ms with 0 meaning "never".

#include <cstdint>
#include <string>
#include <vector>

#include "actors/domain/snowflake.hpp"

namespace herald::domain {

struct user {
  snowflake id_ = 0;
  std::string username_;
  bool bot_ = false;
};

struct role {
  snowflake id_ = 0;  // the @everyone role's id equals its guild's id
  std::string name_;
  std::int32_t position_ = 0;
  std::uint64_t permissions_ = 0;  // herald::permissions bitfield
  std::uint32_t color_ = 0;
  bool hoist_ = false;
  bool mentionable_ = false;
  bool managed_ = false;
};

/// Values match Discord's overwrite `type` field.
enum class overwrite_type : std::uint8_t {
  role = 0,
  member = 1,
};

struct permission_overwrite {
  snowflake id_ = 0;  // role id or user id, per type_
  overwrite_type type_ = overwrite_type::role;
  std::uint64_t allow_ = 0;
  std::uint64_t deny_ = 0;
};

struct channel {
  snowflake id_ = 0;
  snowflake guild_id_ = 0;
  std::int32_t type_ = 0;  // Discord channel type: 0 text, 2 voice, 4 category
  std::string name_;
  std::int32_t position_ = 0;
  std::vector<permission_overwrite> overwrites_;  // at most one per (type, id)
};

/// Sets `ow` on `ch`: replaces the overwrite of the same (type, id), else appends it (what an
/// overwrite edit does, as Discord's PUT /channels/{id}/permissions/{overwrite id}).
inline void set_overwrite(channel& ch, const permission_overwrite& ow) {
  for (auto& existing : ch.overwrites_) {
    if (existing.id_ == ow.id_ && existing.type_ == ow.type_) {
      existing = ow;
      return;
    }
  }
  ch.overwrites_.push_back(ow);
}

struct member {
  snowflake user_id_ = 0;
  std::vector<snowflake> role_ids_;  // sorted, unique, never the @everyone role
  std::int64_t joined_at_ = 0;
};

struct guild {
  snowflake id_ = 0;
  std::string name_;
  snowflake owner_id_ = 0;
};

struct message {
  snowflake id_ = 0;
  snowflake channel_id_ = 0;
  snowflake guild_id_ = 0;
  snowflake author_id_ = 0;
  std::string content_;
  std::int64_t created_at_ = 0;
  std::int64_t edited_at_ = 0;  // 0 when never edited
  bool deleted_ = false;
  std::vector<snowflake> mentions_;       // user ids
  std::vector<snowflake> mention_roles_;  // role ids
  bool mention_everyone_ = false;
};

bool operator==(const user& a, const user& b);
bool operator==(const role& a, const role& b);
bool operator==(const permission_overwrite& a, const permission_overwrite& b);
bool operator==(const channel& a, const channel& b);
bool operator==(const member& a, const member& b);
bool operator==(const guild& a, const guild& b);
bool operator==(const message& a, const message& b);

}  // namespace herald::domain
