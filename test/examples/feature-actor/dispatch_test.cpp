// SPDX-License-Identifier: Apache-2.0
// Reactions reach sessions through the guild's ordered path: in seq order
// after their message, only where the member may VIEW the channel, and only
// with the GUILD_MESSAGE_REACTIONS intent.
#include "test/examples/feature-actor/reactions_fixture.hpp"

namespace herald::reactions_test {

namespace {

uint64_t seq_of(const json& f) {
  return f.at("s").get<uint64_t>();
}

// Seq of the first frame of `type` about message `id` (0 if none).
uint64_t seq_where(const sb::session_probe& p, const std::string& type, const std::string& field,
                   uint64_t id) {
  for (const auto& f : p.frames()) {
    if (type_of(f) == type && f.at("d").at(field) == std::to_string(id)) {
      return seq_of(f);
    }
  }
  return 0;
}

}  // namespace

TEST_CASE("a_viewer_receives_reaction_add_after_the_message_create_in_seq_order") {
  reactions_env env;
  auto alice_session = env.box.open_session(alice, {guild_id}, sb::all_intents());
  const uint64_t m = uint64_t{1} << 43;
  const uint64_t marker = m + 1;
  env.box.post_message(guild_id, general, owner, m, "vote");
  env.add(general, m, bob, unicode("👍"));
  env.add(general, m, bob, unicode("👍"));  // repeat: dispatches nothing
  env.remove(general, m, bob, unicode("👍"));
  env.box.post_message(guild_id, general, owner, marker, "marker");
  REQUIRE(drain_until_message(*alice_session, marker));

  const auto& frames = alice_session->frames();
  for (size_t i = 0; i < frames.size(); ++i) {
    REQUIRE(seq_of(frames[i]) == i + 1);  // no gaps, no repeats
  }
  auto create = seq_where(*alice_session, "MESSAGE_CREATE", "id", m);
  auto added = seq_where(*alice_session, "MESSAGE_REACTION_ADD", "message_id", m);
  auto removed = seq_where(*alice_session, "MESSAGE_REACTION_REMOVE", "message_id", m);
  auto after = seq_where(*alice_session, "MESSAGE_CREATE", "id", marker);
  CHECK(create > 0);
  CHECK(added == create + 1);
  CHECK(removed == added + 1);
  CHECK(after == removed + 1);
  CHECK(alice_session->of_type("MESSAGE_REACTION_ADD").size() == 1);

  // Discord's documented shape, ids as strings.
  auto d = alice_session->of_type("MESSAGE_REACTION_ADD").at(0).at("d");
  CHECK(d.at("user_id") == std::to_string(bob));
  CHECK(d.at("channel_id") == std::to_string(general));
  CHECK(d.at("message_id") == std::to_string(m));
  CHECK(d.at("guild_id") == std::to_string(guild_id));
  CHECK(d.at("emoji").at("id").is_null());
  CHECK(d.at("emoji").at("name") == "👍");
  auto r = alice_session->of_type("MESSAGE_REACTION_REMOVE").at(0).at("d");
  CHECK(r.at("user_id") == std::to_string(bob));
  CHECK(r.at("emoji").at("name") == "👍");
}

TEST_CASE("a_session_that_cannot_view_the_channel_receives_none_of_its_reactions") {
  reactions_env env;
  auto owner_session = env.box.open_session(owner, {guild_id}, sb::all_intents());
  auto alice_session = env.box.open_session(alice, {guild_id}, sb::all_intents());
  const uint64_t secret = uint64_t{1} << 44;
  const uint64_t marker = secret + 1;
  env.box.post_message(guild_id, hidden, owner, secret, "staff only");
  env.add(hidden, secret, owner, unicode("🔒"));
  env.remove(hidden, secret, owner, unicode("🔒"));
  env.box.post_message(guild_id, general, owner, marker, "marker");

  REQUIRE(drain_until_message(*alice_session, marker));
  REQUIRE(drain_until_message(*owner_session, marker));
  CHECK(count_reaction_frames(*alice_session) == 0);
  CHECK(alice_session->of_type("MESSAGE_CREATE").size() == 1);  // only the marker
  CHECK(owner_session->of_type("MESSAGE_REACTION_ADD").size() == 1);
  CHECK(owner_session->of_type("MESSAGE_REACTION_REMOVE").size() == 1);
}

TEST_CASE("a_session_without_the_reactions_intent_receives_no_reactions") {
  reactions_env env;
  auto without = sb::all_intents() & ~rx::guild_message_reactions_intent;
  auto alice_session = env.box.open_session(alice, {guild_id}, without);
  auto bob_session = env.box.open_session(bob, {guild_id}, sb::all_intents());
  const uint64_t m = uint64_t{1} << 45;
  const uint64_t marker = m + 1;
  env.box.post_message(guild_id, general, owner, m, "react to me");
  env.add(general, m, bob, unicode("👍"));
  env.remove(general, m, bob, unicode("👍"));
  env.box.post_message(guild_id, general, owner, marker, "marker");

  REQUIRE(drain_until_message(*alice_session, marker));
  REQUIRE(drain_until_message(*bob_session, marker));
  CHECK(count_reaction_frames(*alice_session) == 0);
  CHECK(alice_session->of_type("MESSAGE_CREATE").size() == 2);  // messages still arrive
  CHECK(count_reaction_frames(*bob_session) == 2);
}

}  // namespace herald::reactions_test
