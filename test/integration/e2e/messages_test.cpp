// SPDX-License-Identifier: Apache-2.0
// A message POSTed through REST reaches, as MESSAGE_CREATE with the documented shape, every
// session that may see it (content only where allowed) and never a member who cannot view
// the channel.
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "e2e_fixture.hpp"

using namespace herald;
using namespace herald::e2e;

namespace {

/// GUILDS | GUILD_MESSAGES: messages without their content.
constexpr uint32_t without_content = guilds_intent | guild_messages_intent;
constexpr uint32_t with_content = without_content | message_content_intent;

}  // namespace

TEST_CASE("a_rest_message_arrives_as_message_create_to_every_session_that_may_see_it") {
  node n;
  auto alice = n.create_user("alice");
  auto bob = n.create_user("bob");
  auto carol = n.create_user("carol");
  auto guild = n.create_guild("guild", alice);
  auto general = n.create_channel(guild, "general");
  auto staff = n.create_channel(guild, "staff", true);
  auto staff_role = n.create_role(guild, "staff", 0);
  n.set_role_overwrite(staff, staff_role, view_channel | send_messages, 0);
  n.add_member(guild, bob);
  n.add_member(guild, carol, {staff_role});

  // alice writes without the MESSAGE_CONTENT intent (she is the author), bob has no
  // MESSAGE_CONTENT either, carol has it.
  auto alice_ws = connect(n, alice, 1, without_content);
  auto bob_ws = connect(n, bob, 1, without_content);
  auto carol_ws = connect(n, carol, 1, with_content);

  SECTION("everyone in the channel gets it, content only where allowed") {
    auto posted = n.post_message(alice, general, "hello everyone");
    check_message_shape(posted, general, guild, alice);
    CHECK(posted["content"] == "hello everyone");
    auto id = posted["id"].get<std::string>();

    auto a = wait_message(*alice_ws, id);
    auto b = wait_message(*bob_ws, id);
    auto c = wait_message(*carol_ws, id);
    REQUIRE(a);
    REQUIRE(b);
    REQUIRE(c);
    for (auto* frame : {&*a, &*b, &*c}) {
      check_message_shape((*frame)["d"], general, guild, alice);
      CHECK((*frame)["d"]["member"].is_object());
      CHECK((*frame)["d"]["timestamp"] == posted["timestamp"]);
    }
    CHECK((*a)["d"]["content"] == "hello everyone");  // the author
    CHECK((*b)["d"]["content"] == "");                // no MESSAGE_CONTENT intent
    CHECK((*c)["d"]["content"] == "hello everyone");  // MESSAGE_CONTENT intent

    // A mention gives bob the content without the intent.
    auto mention = n.post_message(alice, general, "hi <@" + bob.id + ">");
    auto bm = wait_message(*bob_ws, mention["id"].get<std::string>());
    REQUIRE(bm);
    CHECK((*bm)["d"]["content"] == "hi <@" + bob.id + ">");
    REQUIRE((*bm)["d"]["mentions"].is_array());
    REQUIRE((*bm)["d"]["mentions"].size() == 1);
    CHECK((*bm)["d"]["mentions"][0]["id"] == bob.id);
  }

  SECTION("a member who cannot view the private channel never gets its messages") {
    auto secret = n.post_message(alice, staff, "staff only");
    auto secret_id = secret["id"].get<std::string>();
    auto reply = n.post_message(carol, staff, "carol in staff");
    auto reply_id = reply["id"].get<std::string>();
    // Afterwards a message bob may see: the guild dispatches in order, so once bob has it,
    // he would already have had the #staff ones.
    auto marker = n.post_message(alice, general, "marker");
    auto marker_id = marker["id"].get<std::string>();

    auto a = wait_message(*alice_ws, reply_id);
    REQUIRE(a);
    CHECK(saw_dispatch(*alice_ws, "MESSAGE_CREATE", "id", secret_id));
    auto c = wait_message(*carol_ws, secret_id);
    REQUIRE(c);
    CHECK((*c)["d"]["content"] == "staff only");
    CHECK((*c)["d"]["channel_id"] == staff);

    std::vector<json> seen;
    REQUIRE(wait_message(*bob_ws, marker_id, &seen));
    for (const auto& m : seen) {
      INFO("bob got " << m.dump());
      CHECK(m["d"]["channel_id"] != staff);
    }
    CHECK_FALSE(saw_dispatch(*bob_ws, "MESSAGE_CREATE", "channel_id", staff));

    // bob cannot post there either: 403 Missing Permissions (50013).
    auto denied =
        testing::rest_client{n.gateway_port(), bob.token}.post_message(staff, "let me in");
    CHECK(denied.status == 403);
    CHECK(denied.json().value("code", 0) == 50013);
    CHECK(denied.header("content-type").rfind("application/json", 0) == 0);
  }

  CHECK(alice_ws->seq_errors().empty());
  CHECK(bob_ws->seq_errors().empty());
  CHECK(carol_ws->seq_errors().empty());
}

TEST_CASE("every_open_session_of_a_user_gets_the_message_and_a_closed_one_does_not_stop_them") {
  node n;
  auto alice = n.create_user("alice");
  auto bob = n.create_user("bob");
  auto guild = n.create_guild("guild", alice);
  auto general = n.create_channel(guild, "general");
  n.add_member(guild, bob);
  std::vector<std::unique_ptr<testing::gateway_client>> bobs;
  for (int i = 0; i < 4; ++i) {
    bobs.push_back(connect(n, bob, 1, with_content));
  }
  std::set<std::string> session_ids;
  for (const auto& ws : bobs) {
    session_ids.insert(ws->session_id());
  }
  CHECK(session_ids.size() == bobs.size());
  bobs.front()->close(1000);

  auto posted = n.post_message(alice, general, "to all of bob's sessions");
  for (size_t i = 1; i < bobs.size(); ++i) {
    auto got = wait_message(*bobs[i], posted["id"].get<std::string>());
    REQUIRE(got);
    CHECK((*got)["d"]["content"] == "to all of bob's sessions");
    CHECK((*got)["s"] == 3);
    CHECK(bobs[i]->seq_errors().empty());
  }
}

TEST_CASE("messages_posted_back_to_back_reach_every_members_session_complete_and_in_order") {
  node n;
  auto alice = n.create_user("alice");
  auto guild = n.create_guild("guild", alice);
  auto general = n.create_channel(guild, "general");
  std::vector<user> members;
  for (int i = 0; i < 30; ++i) {
    members.push_back(n.create_user("member" + std::to_string(i)));
    n.add_member(guild, members.back());
  }
  // Identify all at once: every Identify is sent before any READY is read.
  std::vector<std::unique_ptr<testing::gateway_client>> sessions;
  for (const auto& m : members) {
    sessions.push_back(std::make_unique<testing::gateway_client>(n.gateway_port()));
    REQUIRE(sessions.back()->next());
    sessions.back()->identify(m.token, with_content);
  }
  for (auto& ws : sessions) {
    REQUIRE(ws->next_op(0, "READY"));
    REQUIRE(ws->next_op(0, "GUILD_CREATE"));
  }
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    ids.push_back(n.post_message(alice, general, "m" + std::to_string(i))["id"].get<std::string>());
  }
  for (size_t k = 0; k < sessions.size(); ++k) {
    INFO("session of " << members[k].name);
    auto& ws = *sessions[k];
    for (size_t i = 0; i < ids.size(); ++i) {
      auto got = ws.next_op(0, "MESSAGE_CREATE", 5s);
      REQUIRE(got);
      CHECK((*got)["d"]["id"] == ids[i]);
      CHECK((*got)["d"]["content"] == "m" + std::to_string(i));
    }
    CHECK(ws.last_seq() == 2 + ids.size());
    CHECK(ws.seq_errors().empty());
  }
}
