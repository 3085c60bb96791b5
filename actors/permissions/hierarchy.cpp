// SPDX-License-Identifier: Apache-2.0
#include "actors/permissions/hierarchy.hpp"

#include <cstdint>

namespace herald::permissions {
namespace {

/// A member's place: its highest role, or none (only @everyone, below every role).
struct rank {
  bool has_role = false;
  std::int32_t position = 0;
  domain::snowflake id = 0;

  bool above(const rank& other) const {
    if (has_role != other.has_role) {
      return has_role;
    }
    if (!has_role) {
      return false;  // both rank as @everyone
    }
    return position != other.position ? position > other.position : id < other.id;
  }
};

rank rank_of(const domain::guild_state& guild, const domain::member& m) {
  rank top;
  for (auto role_id : m.role_ids_) {
    if (const auto* role = guild.find_role(role_id)) {
      rank r{true, role->position_, role->id_};
      if (r.above(top)) {
        top = r;
      }
    }
  }
  return top;
}

}  // namespace

bool outranks(const domain::guild_state& guild, const domain::member& actor,
              const domain::member& target) {
  auto owner = guild.info().owner_id_;
  if (target.user_id_ == owner) {
    return false;
  }
  if (actor.user_id_ == owner) {
    return true;
  }
  return rank_of(guild, actor).above(rank_of(guild, target));
}

}  // namespace herald::permissions
