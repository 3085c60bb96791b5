// SPDX-License-Identifier: Apache-2.0
#include "actors/domain/types.hpp"

#include <tuple>

namespace herald::domain {

bool operator==(const user& a, const user& b) {
  return std::tie(a.id_, a.username_, a.bot_) == std::tie(b.id_, b.username_, b.bot_);
}

bool operator==(const role& a, const role& b) {
  return std::tie(a.id_, a.name_, a.position_, a.permissions_, a.color_, a.hoist_, a.mentionable_,
                  a.managed_) == std::tie(b.id_, b.name_, b.position_, b.permissions_, b.color_,
                                          b.hoist_, b.mentionable_, b.managed_);
}

bool operator==(const permission_overwrite& a, const permission_overwrite& b) {
  return std::tie(a.id_, a.type_, a.allow_, a.deny_) == std::tie(b.id_, b.type_, b.allow_, b.deny_);
}

bool operator==(const channel& a, const channel& b) {
  return std::tie(a.id_, a.guild_id_, a.type_, a.name_, a.position_, a.overwrites_) ==
         std::tie(b.id_, b.guild_id_, b.type_, b.name_, b.position_, b.overwrites_);
}

bool operator==(const member& a, const member& b) {
  return std::tie(a.user_id_, a.role_ids_, a.joined_at_) ==
         std::tie(b.user_id_, b.role_ids_, b.joined_at_);
}

bool operator==(const guild& a, const guild& b) {
  return std::tie(a.id_, a.name_, a.owner_id_) == std::tie(b.id_, b.name_, b.owner_id_);
}

bool operator==(const message& a, const message& b) {
  return std::tie(a.id_, a.channel_id_, a.guild_id_, a.author_id_, a.content_, a.created_at_,
                  a.edited_at_, a.deleted_, a.mentions_, a.mention_roles_, a.mention_everyone_) ==
         std::tie(b.id_, b.channel_id_, b.guild_id_, b.author_id_, b.content_, b.created_at_,
                  b.edited_at_, b.deleted_, b.mentions_, b.mention_roles_, b.mention_everyone_);
}

}  // namespace herald::domain
