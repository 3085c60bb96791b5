// SPDX-License-Identifier: Apache-2.0
#include "actors/domain/convert.hpp"

#include <algorithm>

namespace herald::domain {

namespace {

template <class Repeated>
std::vector<snowflake> ids_of(const Repeated& ids) {
  return std::vector<snowflake>(ids.begin(), ids.end());
}

template <class Repeated>
void put_ids(const std::vector<snowflake>& ids, Repeated* out) {
  out->Reserve(static_cast<int>(ids.size()));
  for (snowflake id : ids) {
    out->Add(id);
  }
}

}  // namespace

proto::user to_proto(const user& value) {
  proto::user out;
  out.set_id(value.id_);
  out.set_username(value.username_);
  out.set_bot(value.bot_);
  return out;
}

proto::role to_proto(const role& value) {
  proto::role out;
  out.set_id(value.id_);
  out.set_name(value.name_);
  out.set_position(value.position_);
  out.set_permissions(value.permissions_);
  out.set_color(value.color_);
  out.set_hoist(value.hoist_);
  out.set_mentionable(value.mentionable_);
  out.set_managed(value.managed_);
  return out;
}

proto::permission_overwrite to_proto(const permission_overwrite& value) {
  proto::permission_overwrite out;
  out.set_id(value.id_);
  out.set_type(value.type_ == overwrite_type::member ? proto::overwrite_member
                                                     : proto::overwrite_role);
  out.set_allow(value.allow_);
  out.set_deny(value.deny_);
  return out;
}

proto::channel to_proto(const channel& value) {
  proto::channel out;
  out.set_id(value.id_);
  out.set_guild_id(value.guild_id_);
  out.set_type(value.type_);
  out.set_name(value.name_);
  out.set_position(value.position_);
  for (const auto& ow : value.overwrites_) {
    *out.add_overwrites() = to_proto(ow);
  }
  return out;
}

proto::member to_proto(const member& value) {
  proto::member out;
  out.set_user_id(value.user_id_);
  put_ids(value.role_ids_, out.mutable_role_ids());
  out.set_joined_at(value.joined_at_);
  return out;
}

proto::guild to_proto(const guild& value) {
  proto::guild out;
  out.set_id(value.id_);
  out.set_name(value.name_);
  out.set_owner_id(value.owner_id_);
  return out;
}

proto::message to_proto(const message& value) {
  proto::message out;
  out.set_id(value.id_);
  out.set_channel_id(value.channel_id_);
  out.set_guild_id(value.guild_id_);
  out.set_author_id(value.author_id_);
  out.set_content(value.content_);
  out.set_created_at(value.created_at_);
  out.set_edited_at(value.edited_at_);
  out.set_deleted(value.deleted_);
  put_ids(value.mentions_, out.mutable_mentions());
  put_ids(value.mention_roles_, out.mutable_mention_roles());
  out.set_mention_everyone(value.mention_everyone_);
  return out;
}

user from_proto(const proto::user& value) {
  return user{value.id(), value.username(), value.bot()};
}

role from_proto(const proto::role& value) {
  role out;
  out.id_ = value.id();
  out.name_ = value.name();
  out.position_ = value.position();
  out.permissions_ = value.permissions();
  out.color_ = value.color();
  out.hoist_ = value.hoist();
  out.mentionable_ = value.mentionable();
  out.managed_ = value.managed();
  return out;
}

permission_overwrite from_proto(const proto::permission_overwrite& value) {
  permission_overwrite out;
  out.id_ = value.id();
  out.type_ =
      value.type() == proto::overwrite_member ? overwrite_type::member : overwrite_type::role;
  out.allow_ = value.allow();
  out.deny_ = value.deny();
  return out;
}

channel from_proto(const proto::channel& value) {
  channel out;
  out.id_ = value.id();
  out.guild_id_ = value.guild_id();
  out.type_ = value.type();
  out.name_ = value.name();
  out.position_ = value.position();
  out.overwrites_.reserve(static_cast<std::size_t>(value.overwrites_size()));
  for (const auto& ow : value.overwrites()) {
    out.overwrites_.push_back(from_proto(ow));
  }
  return out;
}

member from_proto(const proto::member& value) {
  member out;
  out.user_id_ = value.user_id();
  out.role_ids_ = ids_of(value.role_ids());
  std::sort(out.role_ids_.begin(), out.role_ids_.end());
  out.role_ids_.erase(std::unique(out.role_ids_.begin(), out.role_ids_.end()), out.role_ids_.end());
  out.joined_at_ = value.joined_at();
  return out;
}

guild from_proto(const proto::guild& value) {
  return guild{value.id(), value.name(), value.owner_id()};
}

message from_proto(const proto::message& value) {
  message out;
  out.id_ = value.id();
  out.channel_id_ = value.channel_id();
  out.guild_id_ = value.guild_id();
  out.author_id_ = value.author_id();
  out.content_ = value.content();
  out.created_at_ = value.created_at();
  out.edited_at_ = value.edited_at();
  out.deleted_ = value.deleted();
  out.mentions_ = ids_of(value.mentions());
  out.mention_roles_ = ids_of(value.mention_roles());
  out.mention_everyone_ = value.mention_everyone();
  return out;
}

bool valid_overwrite_type(const proto::permission_overwrite& value) {
  return value.type() == proto::overwrite_role || value.type() == proto::overwrite_member;
}

}  // namespace herald::domain
