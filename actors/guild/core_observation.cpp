// SPDX-License-Identifier: Apache-2.0
#include "actors/guild/core_observation.hpp"

namespace herald::guild {

namespace {

using dispatch::core_event_kind;

bool observable(const proto::event& event, core_event_kind& kind) {
  using payload = proto::event::PayloadCase;
  switch (event.payload_case()) {
    case payload::kMessageDelete:
      kind = core_event_kind::message_delete;
      return true;
    case payload::kChannelDelete:
      kind = core_event_kind::channel_delete;
      return true;
    case payload::kGuildMemberRemove:
      kind = core_event_kind::member_remove;
      return true;
    case payload::kGuildRoleUpdate:
      kind = core_event_kind::role_update;
      return true;
    case payload::kGuildRoleDelete:
      kind = core_event_kind::role_delete;
      return true;
    default:
      return false;
  }
}

}  // namespace

std::unique_ptr<dispatch::core_event> observed_event(const dispatch::core_observers& observers,
                                                     const proto::event& event, uint64_t guild_id) {
  core_event_kind kind{};
  if (!observable(event, kind) || (observers.mask() & dispatch::mask_of(kind)) == 0) {
    return nullptr;
  }
  auto out = std::make_unique<dispatch::core_event>();
  out->kind = kind;
  out->guild_id = guild_id;
  switch (kind) {
    case core_event_kind::message_delete:
      out->channel_id = event.message_delete().channel_id();
      out->message_ids.push_back(event.message_delete().id());
      break;
    case core_event_kind::channel_delete:
      out->channel_id = event.channel_delete().id();
      break;
    case core_event_kind::member_remove:
      out->user_id = event.guild_member_remove().user_id();
      break;
    case core_event_kind::role_update:
      out->role_id = event.guild_role_update().id();
      break;
    case core_event_kind::role_delete:
      out->role_id = event.guild_role_delete().role_id();
      break;
  }
  return out;
}

uint64_t deleted_message_of(const proto::event& event) {
  return event.payload_case() == proto::event::PayloadCase::kMessageDelete
             ? event.message_delete().id()
             : 0;
}

}  // namespace herald::guild
