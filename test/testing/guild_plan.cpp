// SPDX-License-Identifier: Apache-2.0
#include "test/testing/guild_plan.hpp"

#include <algorithm>
#include <utility>

#include "actors/domain/permission_bits.hpp"

namespace herald::testing {

guild_plan::guild_plan(uint64_t id, uint64_t owner)
    : id_(id), owner_(owner), everyone_(permissions::default_everyone) {}

guild_plan& guild_plan::everyone(uint64_t permissions) {
  everyone_ = permissions;
  return *this;
}

guild_plan& guild_plan::role(uint64_t id, uint64_t permissions, std::string name) {
  roles_.push_back({id, permissions, name.empty() ? "role" + std::to_string(id) : std::move(name)});
  return *this;
}

guild_plan& guild_plan::member(uint64_t user_id, std::vector<uint64_t> roles) {
  members_.push_back({user_id, std::move(roles)});
  return *this;
}

guild_plan& guild_plan::channel(uint64_t id, std::vector<overwrite> overwrites, std::string name) {
  channels_.push_back(
      {id, std::move(overwrites), name.empty() ? "channel" + std::to_string(id) : std::move(name)});
  return *this;
}

domain::guild_state guild_plan::build() const {
  domain::guild_state g{domain::guild{id_, "guild" + std::to_string(id_), owner_}};
  auto everyone = g.everyone_role();
  everyone.permissions_ = everyone_;
  g.restore_role(everyone);
  int position = 1;
  for (const auto& r : roles_) {
    g.restore_role(domain::role{r.id, r.name, position++, r.permissions});
  }
  auto add_member = [&g](uint64_t user_id, std::vector<uint64_t> roles) {
    domain::member m;
    m.user_id_ = user_id;
    m.joined_at_ = 1;
    std::sort(roles.begin(), roles.end());
    m.role_ids_ = std::move(roles);
    g.restore_member(m, domain::user{user_id, "user" + std::to_string(user_id), false});
  };
  if (std::none_of(members_.begin(), members_.end(),
                   [this](const member_plan& m) { return m.user_id == owner_; })) {
    add_member(owner_, {});
  }
  for (const auto& m : members_) {
    add_member(m.user_id, m.roles);
  }
  for (const auto& c : channels_) {
    domain::channel ch;
    ch.id_ = c.id;
    ch.guild_id_ = id_;
    ch.name_ = c.name;
    for (const auto& ow : c.overwrites) {
      const bool member = ow.kind == overwrite::target::member;
      ch.overwrites_.push_back(
          {ow.kind == overwrite::target::everyone ? id_ : ow.id,
           member ? domain::overwrite_type::member : domain::overwrite_type::role, ow.allow,
           ow.deny});
    }
    g.restore_channel(ch);
  }
  return g;
}

}  // namespace herald::testing
