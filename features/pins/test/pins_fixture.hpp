// SPDX-License-Identifier: Apache-2.0
#pragma once
// The pins feature's tests: a herald::testing sandbox running the feature, seeded with one
// guild. `mods` may pin; `legacy` holds MANAGE_MESSAGES only (no PIN_MESSAGES: after Discord's
// split it may not pin); #staff is hidden from everyone but the owner and mods.

#include <cstdint>
#include <string>

#include <catch2/catch.hpp>

#include "actors/domain/permission_bits.hpp"
#include "features/pins/pins.hpp"
#include "test/testing/feature_sandbox.hpp"

namespace herald::pins_test {

using testing::id;
using json = nlohmann::json;
namespace perm = permissions;

constexpr uint64_t guild = uint64_t{91} << 22;
constexpr uint64_t general = guild + 1;
constexpr uint64_t staff = guild + 2;
constexpr uint64_t mods = guild + 10;
constexpr uint64_t legacy = guild + 11;
constexpr uint64_t owner = 601;
constexpr uint64_t alice = 602;  // mods
constexpr uint64_t bob = 603;    // no role
constexpr uint64_t carol = 604;  // legacy

inline std::string pin_path(uint64_t channel, uint64_t message) {
  return "/channels/" + id(channel) + "/messages/pins/" + id(message);
}
inline std::string pins_path(uint64_t channel) {
  return "/channels/" + id(channel) + "/messages/pins";
}

inline int code_of(const testing::http_answer& r) {
  auto j = r.json();
  return j.is_object() && j.contains("code") ? j["code"].get<int>() : -1;
}

struct pins_env {
  pins_env() {
    testing::guild_plan g{guild, owner};
    g.role(mods, perm::pin_messages)
        .role(legacy, perm::manage_messages)
        .member(alice, {mods})
        .member(bob)
        .member(carol, {legacy})
        .channel(general)
        .channel(staff, {testing::everyone_overwrite(0, perm::view_channel),
                         testing::role_overwrite(mods, perm::view_channel, 0)});
    box.seed(g);
    box.start();
  }

  uint64_t post(uint64_t channel, const std::string& content = "m") {
    return box.post_message(guild, channel, owner, content);
  }

  /// PUT (pin) or DELETE (unpin) that must answer 204.
  void pin(uint64_t user, uint64_t channel, uint64_t message, bool pinning = true) {
    auto r = box.rest(user, pinning ? "PUT" : "DELETE", pin_path(channel, message));
    INFO((pinning ? "PUT " : "DELETE ")
         << pin_path(channel, message) << " -> " << r.status << " " << r.body);
    REQUIRE(r.status == 204);
  }

  /// GET /channels/{c}/messages/pins (with `query`), which must answer 200.
  json pins(uint64_t user, uint64_t channel, const std::string& query = {}) {
    auto r = box.rest(user, "GET", pins_path(channel) + query);
    INFO("GET pins -> " << r.status << " " << r.body);
    REQUIRE(r.status == 200);
    return r.json();
  }

  testing::feature_sandbox box{{pins::feature_module()}};
};

/// Waits for the MESSAGE_CREATE of `message` (a marker: a guild's dispatches reach a session in
/// guild order, so every dispatch ordered before it has arrived).
inline bool saw_message(testing::session_probe& p, uint64_t message) {
  return p
      .wait_for("MESSAGE_CREATE", [message](const json& d) { return d.at("id") == id(message); })
      .has_value();
}

}  // namespace herald::pins_test
