// SPDX-License-Identifier: Apache-2.0
// Randomized check of channel_permissions against a reference written
// separately from Discord's documented pseudo-code, on maps instead of the
// guild_state's sorted vectors.
#include <catch2/catch.hpp>

#include <map>
#include <random>

#include "actors/permissions/permissions.hpp"

using namespace herald::permissions;
using namespace herald::domain;

namespace {

struct reference_guild {
  snowflake id = 0;
  snowflake owner = 0;
  std::map<snowflake, bits> role_perms;  // includes @everyone
  std::map<snowflake, std::vector<snowflake>> member_roles;
  // Overwrites keyed by (type, id), as Discord's docs look them up.
  std::map<std::pair<int, snowflake>, std::pair<bits, bits>> overwrites;
};

bits reference_base(const reference_guild& g, snowflake user) {
  if (user == g.owner) {
    return all_permissions;
  }
  bits permissions = g.role_perms.at(g.id);
  for (snowflake r : g.member_roles.at(user)) {
    permissions |= g.role_perms.at(r);
  }
  if ((permissions & administrator) == administrator) {
    return all_permissions;
  }
  return permissions;
}

bits reference_overwrites(const reference_guild& g, bits base, snowflake user) {
  if ((base & administrator) == administrator) {
    return all_permissions;
  }
  bits permissions = base;
  auto everyone = g.overwrites.find({0, g.id});
  if (everyone != g.overwrites.end()) {
    permissions &= ~everyone->second.second;
    permissions |= everyone->second.first;
  }
  bits allow = 0;
  bits deny = 0;
  for (snowflake r : g.member_roles.at(user)) {
    auto o = g.overwrites.find({0, r});
    if (o != g.overwrites.end()) {
      allow |= o->second.first;
      deny |= o->second.second;
    }
  }
  permissions &= ~deny;
  permissions |= allow;
  auto mine = g.overwrites.find({1, user});
  if (mine != g.overwrites.end()) {
    permissions &= ~mine->second.second;
    permissions |= mine->second.first;
  }
  return permissions;
}

bits reference_channel(const reference_guild& g, snowflake user) {
  bits p = reference_overwrites(g, reference_base(g, user), user);
  if (p == all_permissions) {
    return p;
  }
  if ((p & view_channel) == 0) {
    return 0;
  }
  if ((p & send_messages) == 0) {
    p &= ~(send_tts_messages | mention_everyone | embed_links | attach_files);
  }
  return p;
}

// Few interesting bits so that allows and denies collide often.
bits random_bits(std::mt19937_64& rng, bool may_admin) {
  static const bits pool[] = {view_channel,  send_messages,    read_message_history,
                              embed_links,   mention_everyone, manage_messages,
                              add_reactions, attach_files};
  bits out = 0;
  for (bits b : pool) {
    if (rng() % 3 == 0) {
      out |= b;
    }
  }
  if (may_admin && rng() % 25 == 0) {
    out |= administrator;
  }
  return out;
}

}  // namespace

TEST_CASE("channel_permissions_match_the_reference_on_random_guilds") {
  std::mt19937_64 rng(20261127);
  constexpr snowflake gid = 1;
  constexpr int guilds = 3000;
  int compared = 0;
  for (int iteration = 0; iteration < guilds; ++iteration) {
    reference_guild ref;
    ref.id = gid;
    const int role_count = static_cast<int>(rng() % 6);
    const int member_count = 1 + static_cast<int>(rng() % 6);
    ref.owner = 10 + rng() % (member_count + 2);  // sometimes not a member at all
    guild_state g(guild{gid, "g", ref.owner});
    role everyone = g.everyone_role();
    everyone.permissions_ = random_bits(rng, true);
    REQUIRE(g.update_role(everyone) == apply_error::ok);
    ref.role_perms[gid] = everyone.permissions_;
    for (int r = 0; r < role_count; ++r) {
      role value{static_cast<snowflake>(100 + r), "r", r, random_bits(rng, true)};
      REQUIRE(g.create_role(value) == apply_error::ok);
      ref.role_perms[value.id_] = value.permissions_;
    }
    for (int m = 0; m < member_count; ++m) {
      member value{static_cast<snowflake>(10 + m), {}, 0};
      for (int r = 0; r < role_count; ++r) {
        if (rng() % 2 == 0) {
          value.role_ids_.push_back(100 + r);
        }
      }
      ref.member_roles[value.user_id_] = value.role_ids_;
      REQUIRE(g.add_member(value, user{value.user_id_, "u", false}) == apply_error::ok);
    }
    channel ch;
    ch.id_ = 500;
    auto maybe_overwrite = [&](overwrite_type type, snowflake id) {
      if (rng() % 2 == 0) {
        permission_overwrite ow{id, type, random_bits(rng, false), random_bits(rng, false)};
        ch.overwrites_.push_back(ow);
        ref.overwrites[{static_cast<int>(type), id}] = {ow.allow_, ow.deny_};
      }
    };
    maybe_overwrite(overwrite_type::role, gid);
    for (int r = 0; r < role_count; ++r) {
      maybe_overwrite(overwrite_type::role, 100 + r);
    }
    for (int m = 0; m < member_count + 1; ++m) {
      maybe_overwrite(overwrite_type::member, 10 + m);
    }
    std::shuffle(ch.overwrites_.begin(), ch.overwrites_.end(), rng);
    REQUIRE(g.create_channel(ch) == apply_error::ok);
    for (const auto& [user_id, roles] : ref.member_roles) {
      INFO("iteration " << iteration << " user " << user_id);
      REQUIRE(channel_permissions(g, ch.id_, user_id) == reference_channel(ref, user_id));
      REQUIRE(base_permissions(g, *g.find_member(user_id)) == reference_base(ref, user_id));
      ++compared;
    }
  }
  CHECK(compared > guilds);
}
