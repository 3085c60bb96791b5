// SPDX-License-Identifier: Apache-2.0
// guild_state::apply: maps each event kind of the proto envelope onto the
// typed mutations and checks of guild_state.
#include "actors/domain/convert.hpp"
#include "actors/domain/guild_state.hpp"

namespace herald::domain {

namespace {

bool overwrites_valid(const proto::channel& value) {
  for (const auto& ow : value.overwrites()) {
    if (!valid_overwrite_type(ow)) {
      return false;
    }
  }
  return true;
}

}  // namespace

apply_error guild_state::apply(const proto::event& event) {
  if (event.guild_id() != info_.id_) {
    return apply_error::wrong_guild;
  }
  using pc = proto::event::PayloadCase;
  switch (event.payload_case()) {
    case pc::kMessageCreate:
      return check_message_create(from_proto(event.message_create()));
    case pc::kMessageUpdate:
      return check_message_target(event.message_update().channel_id());
    case pc::kMessageDelete:
      return check_message_target(event.message_delete().channel_id());
    case pc::kTypingStart:
      return check_typing(event.typing_start().channel_id(), event.typing_start().user_id());
    case pc::kGuildMemberAdd:
      return add_member(from_proto(event.guild_member_add().member()),
                        from_proto(event.guild_member_add().user()));
    case pc::kGuildMemberUpdate: {
      const auto& update = event.guild_member_update();
      std::optional<user> who;
      if (update.has_user()) {
        who = from_proto(update.user());
      }
      return update_member(from_proto(update.member()), who);
    }
    case pc::kGuildMemberRemove:
      return remove_member(event.guild_member_remove().user_id());
    case pc::kChannelCreate:
      if (!overwrites_valid(event.channel_create())) {
        return apply_error::invalid_overwrite;
      }
      return create_channel(from_proto(event.channel_create()));
    case pc::kChannelUpdate:
      if (!overwrites_valid(event.channel_update())) {
        return apply_error::invalid_overwrite;
      }
      return update_channel(from_proto(event.channel_update()));
    case pc::kChannelDelete:
      return delete_channel(event.channel_delete().id());
    case pc::kGuildRoleCreate:
      return create_role(from_proto(event.guild_role_create()));
    case pc::kGuildRoleUpdate:
      return update_role(from_proto(event.guild_role_update()));
    case pc::kGuildRoleDelete:
      return delete_role(event.guild_role_delete().role_id());
    case pc::kGuildUpdate:
      return update_guild(from_proto(event.guild_update()));
    case pc::kCustom:
      // Feature events change no core state; only their channel is checked.
      if (event.custom().channel_id() != 0 &&
          find_channel(event.custom().channel_id()) == nullptr) {
        return apply_error::unknown_channel;
      }
      return apply_error::ok;
    case pc::PAYLOAD_NOT_SET:
      break;
  }
  return apply_error::empty_event;
}

}  // namespace herald::domain
