// SPDX-License-Identifier: Apache-2.0
#include "actors/permissions/permissions.hpp"

#include <algorithm>
#include <iterator>

namespace herald::permissions {

namespace {

using domain::overwrite_type;

bool is_owner(const domain::guild_state& guild, const domain::member& member) {
  return member.user_id_ == guild.info().owner_id_;
}

bits apply_overwrites(const domain::guild_state& guild, const domain::channel& channel,
                      const domain::member& member, bits perms) {
  const snowflake everyone_id = guild.id();
  // Order matters: @everyone first (wherever it is listed), then the member's
  // roles as one combined overwrite (so a role allow beats an @everyone deny
  // and another role's deny), then the member's own overwrite, which beats
  // both. Hence two passes over the (small) overwrite list.
  for (const auto& ow : channel.overwrites_) {
    if (ow.type_ == overwrite_type::role && ow.id_ == everyone_id) {
      perms &= ~ow.deny_;
      perms |= ow.allow_;
      break;
    }
  }
  const domain::permission_overwrite* own = nullptr;
  bits role_allow = 0;
  bits role_deny = 0;
  for (const auto& ow : channel.overwrites_) {
    if (ow.type_ == overwrite_type::member) {
      if (ow.id_ == member.user_id_) {
        own = &ow;
      }
    } else if (ow.id_ != everyone_id &&
               std::binary_search(member.role_ids_.begin(), member.role_ids_.end(), ow.id_)) {
      role_allow |= ow.allow_;
      role_deny |= ow.deny_;
    }
  }
  perms &= ~role_deny;
  perms |= role_allow;
  if (own != nullptr) {
    perms &= ~own->deny_;
    perms |= own->allow_;
  }
  return perms;
}

bits implicit_rules(bits perms) {
  if (!has(perms, view_channel)) {
    return 0;
  }
  if (!has(perms, send_messages)) {
    perms &= ~(send_tts_messages | mention_everyone | embed_links | attach_files);
  }
  return perms;
}

}  // namespace

bits base_permissions(const domain::guild_state& guild, const domain::member& member) {
  if (is_owner(guild, member)) {
    return all_permissions;
  }
  bits perms = guild.everyone_role().permissions_;
  for (snowflake role_id : member.role_ids_) {
    if (const auto* r = guild.find_role(role_id)) {
      perms |= r->permissions_;
    }
  }
  return has(perms, administrator) ? all_permissions : perms;
}

bits channel_permissions(const domain::guild_state& guild, const domain::channel& channel,
                         const domain::member& member) {
  const bits base = base_permissions(guild, member);
  if (has(base, administrator)) {  // owner or ADMINISTRATOR: overwrites never apply
    return all_permissions;
  }
  return implicit_rules(apply_overwrites(guild, channel, member, base));
}

bits channel_permissions(const domain::guild_state& guild, snowflake channel_id,
                         snowflake user_id) {
  const auto* ch = guild.find_channel(channel_id);
  const auto* m = guild.find_member(user_id);
  if (ch == nullptr || m == nullptr) {
    return 0;
  }
  return channel_permissions(guild, *ch, *m);
}

std::vector<snowflake> visible_channels(const domain::guild_state& guild,
                                        const domain::member& member) {
  std::vector<snowflake> out;
  out.reserve(guild.channels().size());
  for (const auto& ch : guild.channels()) {
    if (has(channel_permissions(guild, ch, member), view_channel)) {
      out.push_back(ch.id_);  // channels() is sorted by id, so out is too
    }
  }
  return out;
}

view_map compute_views(const domain::guild_state& guild) {
  view_map out;
  out.reserve(guild.member_count());
  for (const auto& [user_id, entry] : guild.members()) {
    out.emplace(user_id, visible_channels(guild, entry.member_));
  }
  return out;
}

view_map compute_views(const domain::guild_state& guild, const std::vector<snowflake>& user_ids) {
  view_map out;
  out.reserve(user_ids.size());
  for (snowflake user_id : user_ids) {
    const auto* m = guild.find_member(user_id);
    out[user_id] = m != nullptr ? visible_channels(guild, *m) : std::vector<snowflake>{};
  }
  return out;
}

std::vector<view_change> diff_views(const view_map& before, const view_map& after) {
  static const std::vector<snowflake> nothing;
  std::vector<snowflake> users;
  users.reserve(before.size() + after.size());
  for (const auto& kv : before) {
    users.push_back(kv.first);
  }
  for (const auto& kv : after) {
    if (before.count(kv.first) == 0) {
      users.push_back(kv.first);
    }
  }
  std::sort(users.begin(), users.end());
  std::vector<view_change> out;
  for (snowflake user_id : users) {
    auto b = before.find(user_id);
    auto a = after.find(user_id);
    const auto& old_view = b != before.end() ? b->second : nothing;
    const auto& new_view = a != after.end() ? a->second : nothing;
    std::vector<snowflake> lost;
    std::vector<snowflake> gained;
    std::set_difference(old_view.begin(), old_view.end(), new_view.begin(), new_view.end(),
                        std::back_inserter(lost));
    std::set_difference(new_view.begin(), new_view.end(), old_view.begin(), old_view.end(),
                        std::back_inserter(gained));
    // Merge so each user's changes come out in channel order.
    auto li = lost.begin();
    auto gi = gained.begin();
    while (li != lost.end() || gi != gained.end()) {
      if (gi == gained.end() || (li != lost.end() && *li < *gi)) {
        out.push_back(view_change{user_id, *li++, false});
      } else {
        out.push_back(view_change{user_id, *gi++, true});
      }
    }
  }
  return out;
}

std::optional<std::vector<snowflake>> view_scope(const domain::guild_state& guild,
                                                 const proto::event& event) {
  using pc = proto::event::PayloadCase;
  std::vector<snowflake> users;
  switch (event.payload_case()) {
    case pc::kGuildMemberAdd:
      users.push_back(event.guild_member_add().member().user_id());
      break;
    case pc::kGuildMemberUpdate:
      users.push_back(event.guild_member_update().member().user_id());
      break;
    case pc::kGuildMemberRemove:
      users.push_back(event.guild_member_remove().user_id());
      break;
    case pc::kChannelCreate:
    case pc::kChannelUpdate:
    case pc::kChannelDelete:
      return std::nullopt;
    case pc::kGuildRoleUpdate:
    case pc::kGuildRoleDelete: {
      const snowflake role_id = event.has_guild_role_update() ? event.guild_role_update().id()
                                                              : event.guild_role_delete().role_id();
      if (role_id == guild.id()) {
        return std::nullopt;
      }
      for (const auto& [user_id, entry] : guild.members()) {
        const auto& ids = entry.member_.role_ids_;
        if (std::binary_search(ids.begin(), ids.end(), role_id)) {
          users.push_back(user_id);
        }
      }
      std::sort(users.begin(), users.end());
      break;
    }
    case pc::kGuildUpdate:
      if (event.guild_update().owner_id() != guild.info().owner_id_) {
        users = {guild.info().owner_id_, event.guild_update().owner_id()};
      }
      break;
    default:
      break;  // messages, typing, role create: nobody's view changes
  }
  return users;
}

}  // namespace herald::permissions
