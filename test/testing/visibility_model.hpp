// SPDX-License-Identifier: Apache-2.0
#pragma once
// The permission model that visibility tests check sessions against, in process
// (test/actors/dispatch/invariants_permissions_test.cpp) and across real nodes
// (test/integration/cluster/permissions_test.cpp): a shadow domain::guild_state gets the same
// changes as the system, permissions::channel_permissions decides which channels a member may
// view, and each session's expected frames are compared, as keys, with what it received.
// Header-only pure functions, used from one test thread.
// Invariant: a key names a frame by its type and the ids that identify it (and, for
// MESSAGE_CREATE, its content as the session gets it), so two streams compare equal exactly
// when they carry the same frames in the same order.

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/domain/guild_state.hpp"
#include "actors/domain/permission_bits.hpp"
#include "actors/permissions/permissions.hpp"

namespace herald::testing {

/// Ids of the channels `user` may VIEW in `g` (none when not a member).
inline std::set<uint64_t> visible_channels_of(const domain::guild_state& g, uint64_t user) {
  std::set<uint64_t> out;
  for (const auto& ch : g.channels()) {
    if (permissions::has(permissions::channel_permissions(g, ch.id_, user),
                         permissions::view_channel)) {
      out.insert(ch.id_);
    }
  }
  return out;
}

/// One dispatch frame as a comparable key: type, the ids that identify it, a message's content.
inline std::string frame_key(const nlohmann::json& frame) {
  auto t = frame.at("t").get<std::string>();
  const auto& d = frame.at("d");
  if (t == "MESSAGE_CREATE") {
    return t + " " + d.at("id").get<std::string>() + " '" + d.at("content").get<std::string>() +
           "'";
  }
  if (t == "GUILD_ROLE_CREATE" || t == "GUILD_ROLE_UPDATE") {
    return t + " " + d.at("role").at("id").get<std::string>();
  }
  if (t == "GUILD_MEMBER_ADD" || t == "GUILD_MEMBER_UPDATE" || t == "GUILD_MEMBER_REMOVE") {
    return t + " " + d.at("user").at("id").get<std::string>();
  }
  if (t == "TYPING_START") {
    return t + " " + d.at("channel_id").get<std::string>() + " " +
           d.at("user_id").get<std::string>();
  }
  return t + " " + d.at("id").get<std::string>();
}

/// Appends what a session with the GUILDS intent gets when its visible channels go from
/// `before` to `after`: CHANNEL_CREATE for each gained, CHANNEL_DELETE for each lost, in
/// ascending channel id (the relay's slot order).
inline void expect_view_change(const std::set<uint64_t>& before, const std::set<uint64_t>& after,
                               std::vector<std::string>& expected) {
  std::set<uint64_t> touched = before;
  touched.insert(after.begin(), after.end());
  for (auto ch : touched) {
    bool was = before.count(ch) > 0;
    bool is = after.count(ch) > 0;
    if (!was && is) {
      expected.push_back("CHANNEL_CREATE " + std::to_string(ch));
    } else if (was && !is) {
      expected.push_back("CHANNEL_DELETE " + std::to_string(ch));
    }
  }
}

/// "" when `got` equals `expected`, else where and how they first differ (for INFO).
inline std::string first_difference(const std::vector<std::string>& got,
                                    const std::vector<std::string>& expected) {
  size_t same = 0;
  while (same < got.size() && same < expected.size() && got[same] == expected[same]) {
    ++same;
  }
  if (same == got.size() && same == expected.size()) {
    return {};
  }
  return "first difference at " + std::to_string(same) + ": got '" +
         (same < got.size() ? got[same] : "<end>") + "' expected '" +
         (same < expected.size() ? expected[same] : "<end>") + "'";
}

}  // namespace herald::testing
