// SPDX-License-Identifier: Apache-2.0
// feature-actor-demo: the reactions feature end to end in one process. Seeds
// a guild with a public and a private channel, starts herald's dispatch core
// and the feature, opens two sessions, reacts, prints what each session
// received and checks it. Exits 0 when every check holds, 1 otherwise.
#include <cstdint>
#include <exception>
#include <iostream>
#include <string>

#include "examples/feature-actor/sandbox/sandbox.hpp"
#include "features/reactions/reactions.hpp"
#include "features/reactions/reactions_error.hpp"

namespace {

namespace rx = herald::reactions;
namespace sb = herald::reactions::sandbox;

constexpr uint64_t guild_id = uint64_t{9} << 22;
constexpr uint64_t general = guild_id + 1;  // every member views it
constexpr uint64_t staff = guild_id + 2;    // only the owner views it
constexpr uint64_t owner = 1001;
constexpr uint64_t member = 1002;
constexpr uint64_t message_id = uint64_t{1} << 40;
constexpr uint64_t staff_message_id = message_id + 1;

int failures = 0;

void check(bool ok, const std::string& what) {
  std::cout << (ok ? "ok    " : "FAILED") << " " << what << "\n";
  failures += ok ? 0 : 1;
}

uint64_t add(const sb::sandbox& box, uint64_t channel, uint64_t message, uint64_t user,
             const char* emoji) {
  auto count = rx::add_reaction(box.reactions(), channel, message, user, rx::emoji{0, emoji});
  if (!count) {
    std::cout << "add_reaction: " << rx::describe(count.error()) << "\n";
    return 0;
  }
  return *count;
}

void print_frames(const char* who, const sb::session_probe& probe) {
  std::cout << who << " received:\n";
  for (const auto& f : probe.frames()) {
    std::string t = f.at("t").is_string() ? f.at("t").get<std::string>() : "";
    std::string d = f.at("d").dump();
    if (t == "READY" || t == "GUILD_CREATE") {
      d = "{…}";
    } else if (t == "MESSAGE_CREATE") {
      d = "{\"id\":" + f.at("d").at("id").dump() +
          ",\"content\":" + f.at("d").at("content").dump() + ",…}";
    }
    std::cout << "  s=" << f.at("s") << " " << t << " " << d << "\n";
  }
}

int run() {
  sb::sandbox box;
  box.seed({guild_id, owner, {member}, {{general, {}}, {staff, {owner}}}});
  box.start();
  auto owner_session = box.open_session(owner, {guild_id}, sb::all_intents());
  auto member_session = box.open_session(member, {guild_id}, sb::all_intents());

  box.post_message(guild_id, general, owner, message_id, "lunch at noon?");
  box.post_message(guild_id, staff, owner, staff_message_id, "staff only");
  check(add(box, general, message_id, owner, "👍") == 1, "owner 👍 → 1");
  check(add(box, general, message_id, member, "👍") == 2, "member 👍 → 2");
  check(add(box, general, message_id, member, "👍") == 2, "member 👍 again → still 2");
  check(add(box, staff, staff_message_id, owner, "🔒") == 1, "owner 🔒 in #staff → 1");
  auto left = rx::remove_reaction(box.reactions(), general, message_id, owner, rx::emoji{0, "👍"});
  check(left && *left == 1, "owner withdraws 👍 → 1");

  // Owner: 2 MESSAGE_CREATE + 3 ADD + 1 REMOVE; member: no #staff frames.
  bool owner_done = owner_session->drain_until([](const auto& f) { return f.size() >= 2 + 6; });
  bool member_done = member_session->drain_until([](const auto& f) { return f.size() >= 2 + 4; });
  print_frames("owner", *owner_session);
  print_frames("member", *member_session);
  check(owner_done && owner_session->of_type("MESSAGE_REACTION_ADD").size() == 3,
        "owner saw 3 MESSAGE_REACTION_ADD (the repeat dispatched nothing)");
  check(member_done && member_session->of_type("MESSAGE_REACTION_ADD").size() == 2,
        "member saw 2 MESSAGE_REACTION_ADD (not the one in #staff)");
  check(member_session->of_type("MESSAGE_REACTION_REMOVE").size() == 1,
        "member saw the MESSAGE_REACTION_REMOVE");
  auto counts = rx::counts(box.reactions(), general, message_id);
  check(counts && counts->of(rx::emoji{0, "👍"}) == 1, "counts(general, message) → 👍 1");
  std::cout << (failures == 0 ? "feature-actor-demo: all checks passed\n"
                              : "feature-actor-demo: some checks FAILED\n");
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main() {
  try {
    return run();
  } catch (const std::exception& e) {
    std::cerr << "feature-actor-demo: " << e.what() << "\n";
    return 1;
  }
}
