// SPDX-License-Identifier: Apache-2.0
#include "actors/domain/guild_state.hpp"

#include <algorithm>
#include <cassert>
#include <set>
#include <utility>

#include "actors/domain/convert.hpp"
#include "actors/domain/permission_bits.hpp"

namespace herald::domain {

namespace {

template <class T>
auto lower(std::vector<T>& items, snowflake id) {
  return std::lower_bound(items.begin(), items.end(), id,
                          [](const T& item, snowflake key) { return item.id_ < key; });
}

template <class T>
const T* find_by_id(const std::vector<T>& items, snowflake id) {
  auto it = std::lower_bound(items.begin(), items.end(), id,
                             [](const T& item, snowflake key) { return item.id_ < key; });
  return it != items.end() && it->id_ == id ? &*it : nullptr;
}

// Inserts or replaces, keeping the vector sorted by id.
template <class T>
void upsert_sorted(std::vector<T>& items, T value) {
  auto it = lower(items, value.id_);
  if (it != items.end() && it->id_ == value.id_) {
    *it = std::move(value);
  } else {
    items.insert(it, std::move(value));
  }
}

template <class T>
bool erase_sorted(std::vector<T>& items, snowflake id) {
  auto it = lower(items, id);
  if (it == items.end() || it->id_ != id) {
    return false;
  }
  items.erase(it);
  return true;
}

}  // namespace

const char* to_string(apply_error error) {
  switch (error) {
    case apply_error::ok:
      return "ok";
    case apply_error::wrong_guild:
      return "wrong_guild";
    case apply_error::empty_event:
      return "empty_event";
    case apply_error::unknown_channel:
      return "unknown_channel";
    case apply_error::unknown_role:
      return "unknown_role";
    case apply_error::unknown_member:
      return "unknown_member";
    case apply_error::channel_exists:
      return "channel_exists";
    case apply_error::role_exists:
      return "role_exists";
    case apply_error::member_exists:
      return "member_exists";
    case apply_error::everyone_protected:
      return "everyone_protected";
    case apply_error::owner_protected:
      return "owner_protected";
    case apply_error::invalid_overwrite:
      return "invalid_overwrite";
    case apply_error::user_mismatch:
      return "user_mismatch";
  }
  return "unknown";
}

guild_state::guild_state(guild info) : info_(std::move(info)) {
  role everyone;
  everyone.id_ = info_.id_;
  everyone.name_ = "@everyone";
  everyone.permissions_ = permissions::default_everyone;
  roles_.push_back(std::move(everyone));
}

const role& guild_state::everyone_role() const {
  const role* found = find_role(info_.id_);
  assert(found != nullptr && "the @everyone role is never removed");
  return *found;
}

const role* guild_state::find_role(snowflake role_id) const {
  return find_by_id(roles_, role_id);
}

const channel* guild_state::find_channel(snowflake channel_id) const {
  return find_by_id(channels_, channel_id);
}

const member* guild_state::find_member(snowflake user_id) const {
  auto it = members_.find(user_id);
  return it == members_.end() ? nullptr : &it->second.member_;
}

const user* guild_state::find_user(snowflake user_id) const {
  auto it = members_.find(user_id);
  return it == members_.end() ? nullptr : &it->second.user_;
}

void guild_state::restore_role(role value) {
  upsert_sorted(roles_, std::move(value));
}

void guild_state::restore_channel(channel value) {
  value.guild_id_ = info_.id_;
  upsert_sorted(channels_, std::move(value));
}

void guild_state::restore_member(member value, user who) {
  auto& ids = value.role_ids_;
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  ids.erase(std::remove(ids.begin(), ids.end(), info_.id_), ids.end());
  const snowflake key = value.user_id_;
  members_[key] = member_entry{std::move(value), std::move(who)};
}

apply_error guild_state::normalise_member(member& value) const {
  auto& ids = value.role_ids_;
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  // Discord never lists @everyone among a member's roles; accept and drop it.
  ids.erase(std::remove(ids.begin(), ids.end(), info_.id_), ids.end());
  for (snowflake role_id : ids) {
    if (find_role(role_id) == nullptr) {
      return apply_error::unknown_role;
    }
  }
  return apply_error::ok;
}

apply_error guild_state::validate_channel(channel& value) const {
  if (value.guild_id_ == 0) {
    value.guild_id_ = info_.id_;
  } else if (value.guild_id_ != info_.id_) {
    return apply_error::wrong_guild;
  }
  std::set<std::pair<overwrite_type, snowflake>> seen;
  for (const auto& ow : value.overwrites_) {
    if (!seen.emplace(ow.type_, ow.id_).second) {
      return apply_error::invalid_overwrite;
    }
    if (ow.type_ == overwrite_type::role && find_role(ow.id_) == nullptr) {
      return apply_error::unknown_role;
    }
  }
  return apply_error::ok;
}

apply_error guild_state::add_member(member value, user who) {
  if (who.id_ != value.user_id_) {
    return apply_error::user_mismatch;
  }
  if (members_.count(value.user_id_) != 0) {
    return apply_error::member_exists;
  }
  if (auto err = normalise_member(value); err != apply_error::ok) {
    return err;
  }
  const snowflake key = value.user_id_;
  members_.emplace(key, member_entry{std::move(value), std::move(who)});
  return apply_error::ok;
}

apply_error guild_state::update_member(member value, const std::optional<user>& who) {
  if (who && who->id_ != value.user_id_) {
    return apply_error::user_mismatch;
  }
  auto it = members_.find(value.user_id_);
  if (it == members_.end()) {
    return apply_error::unknown_member;
  }
  if (auto err = normalise_member(value); err != apply_error::ok) {
    return err;
  }
  it->second.member_ = std::move(value);
  if (who) {
    it->second.user_ = *who;
  }
  return apply_error::ok;
}

apply_error guild_state::remove_member(snowflake user_id) {
  if (user_id == info_.owner_id_) {
    return apply_error::owner_protected;
  }
  if (members_.erase(user_id) == 0) {
    return apply_error::unknown_member;
  }
  return apply_error::ok;
}

apply_error guild_state::create_channel(channel value) {
  if (find_channel(value.id_) != nullptr) {
    return apply_error::channel_exists;
  }
  if (auto err = validate_channel(value); err != apply_error::ok) {
    return err;
  }
  upsert_sorted(channels_, std::move(value));
  return apply_error::ok;
}

apply_error guild_state::update_channel(channel value) {
  if (find_channel(value.id_) == nullptr) {
    return apply_error::unknown_channel;
  }
  if (auto err = validate_channel(value); err != apply_error::ok) {
    return err;
  }
  upsert_sorted(channels_, std::move(value));
  return apply_error::ok;
}

apply_error guild_state::delete_channel(snowflake channel_id) {
  return erase_sorted(channels_, channel_id) ? apply_error::ok : apply_error::unknown_channel;
}

apply_error guild_state::create_role(role value) {
  if (find_role(value.id_) != nullptr) {
    return apply_error::role_exists;
  }
  upsert_sorted(roles_, std::move(value));
  return apply_error::ok;
}

apply_error guild_state::update_role(role value) {
  if (find_role(value.id_) == nullptr) {
    return apply_error::unknown_role;
  }
  upsert_sorted(roles_, std::move(value));
  return apply_error::ok;
}

apply_error guild_state::delete_role(snowflake role_id) {
  if (role_id == info_.id_) {
    return apply_error::everyone_protected;
  }
  if (!erase_sorted(roles_, role_id)) {
    return apply_error::unknown_role;
  }
  for (auto& [user_id, entry] : members_) {
    auto& ids = entry.member_.role_ids_;
    auto it = std::lower_bound(ids.begin(), ids.end(), role_id);
    if (it != ids.end() && *it == role_id) {
      ids.erase(it);
    }
  }
  for (auto& ch : channels_) {
    auto& ows = ch.overwrites_;
    ows.erase(std::remove_if(ows.begin(), ows.end(),
                             [role_id](const permission_overwrite& ow) {
                               return ow.type_ == overwrite_type::role && ow.id_ == role_id;
                             }),
              ows.end());
  }
  return apply_error::ok;
}

apply_error guild_state::update_guild(const guild& value) {
  if (value.id_ != info_.id_) {
    return apply_error::wrong_guild;
  }
  if (value.owner_id_ != info_.owner_id_ && members_.count(value.owner_id_) == 0) {
    return apply_error::unknown_member;
  }
  info_ = value;
  return apply_error::ok;
}

apply_error guild_state::check_message_create(const message& value) const {
  if (value.guild_id_ != info_.id_) {
    return apply_error::wrong_guild;
  }
  if (find_channel(value.channel_id_) == nullptr) {
    return apply_error::unknown_channel;
  }
  if (members_.count(value.author_id_) == 0) {
    return apply_error::unknown_member;
  }
  return apply_error::ok;
}

apply_error guild_state::check_message_target(snowflake channel_id) const {
  return find_channel(channel_id) != nullptr ? apply_error::ok : apply_error::unknown_channel;
}

apply_error guild_state::check_typing(snowflake channel_id, snowflake user_id) const {
  if (find_channel(channel_id) == nullptr) {
    return apply_error::unknown_channel;
  }
  return members_.count(user_id) != 0 ? apply_error::ok : apply_error::unknown_member;
}

}  // namespace herald::domain
