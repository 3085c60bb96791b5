// SPDX-License-Identifier: Apache-2.0
#pragma once
// Fixture of the reactions feature tests: a sandbox (real store, dispatch
// core and feature) seeded with one guild, a public and a private channel.
// Owned by one test case. Invariant: ids below are fixed, so frames can be
// checked by value.

#include <cstdint>
#include <string>

#include <catch2/catch.hpp>

#include "examples/feature-actor/sandbox/sandbox.hpp"
#include "features/reactions/reactions.hpp"
#include "features/reactions/reactions_error.hpp"

namespace herald::reactions_test {

namespace rx = ::herald::reactions;
namespace sb = ::herald::reactions::sandbox;
using json = nlohmann::json;

constexpr uint64_t guild_id = uint64_t{77} << 22;
constexpr uint64_t general = guild_id + 1;  // every member views it
constexpr uint64_t hidden = guild_id + 2;   // only `owner` views it
constexpr uint64_t owner = 501;
constexpr uint64_t alice = 502;
constexpr uint64_t bob = 503;

inline rx::emoji unicode(const char* name) {
  return rx::emoji{0, name};
}

struct reactions_env {
  reactions_env() {
    box.seed({guild_id, owner, {alice, bob}, {{general, {}}, {hidden, {owner}}}});
    box.start();
  }

  /// add_reaction that must succeed.
  uint64_t add(uint64_t channel, uint64_t message, uint64_t user, const rx::emoji& e) {
    auto n = rx::add_reaction(box.reactions(), channel, message, user, e);
    INFO("add_reaction: " << (n ? std::string{"ok"} : rx::describe(n.error())));
    REQUIRE(n);
    return *n;
  }
  uint64_t remove(uint64_t channel, uint64_t message, uint64_t user, const rx::emoji& e) {
    auto n = rx::remove_reaction(box.reactions(), channel, message, user, e);
    INFO("remove_reaction: " << (n ? std::string{"ok"} : rx::describe(n.error())));
    REQUIRE(n);
    return *n;
  }
  rx::reaction_counts counts(uint64_t channel, uint64_t message) {
    auto c = rx::counts(box.reactions(), channel, message);
    REQUIRE(c);
    return *c;
  }

  sb::sandbox box;
};

inline std::string type_of(const json& f) {
  return f.at("t").is_string() ? f.at("t").get<std::string>() : std::string{};
}

/// Drains until a MESSAGE_CREATE of `message_id` arrived (a marker: frames
/// of one guild arrive in guild order, so everything before it is in).
inline bool drain_until_message(sb::session_probe& p, uint64_t message_id) {
  auto id = std::to_string(message_id);
  return p.drain_until([&id](const std::vector<json>& frames) {
    for (const auto& f : frames) {
      if (type_of(f) == "MESSAGE_CREATE" && f.at("d").at("id") == id) {
        return true;
      }
    }
    return false;
  });
}

inline size_t count_reaction_frames(const sb::session_probe& p) {
  return p.of_type("MESSAGE_REACTION_ADD").size() + p.of_type("MESSAGE_REACTION_REMOVE").size();
}

}  // namespace herald::reactions_test
