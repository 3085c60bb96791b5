// SPDX-License-Identifier: Apache-2.0
// Admin API changes are dispatched live to open sessions: a member added gets GUILD_CREATE on
// the session it already has, others GUILD_MEMBER_ADD (with GUILD_MEMBERS only); an overwrite
// that hides a channel sends CHANNEL_DELETE and stops its messages, allowing it again sends
// CHANNEL_CREATE.
#include <string>
#include <vector>

#include "e2e_fixture.hpp"

using namespace herald;
using namespace herald::e2e;

TEST_CASE("live_admin_changes_are_dispatched_to_the_sessions_they_concern") {
  node n;
  auto alice = n.create_user("alice");
  auto bob = n.create_user("bob");
  auto guild = n.create_guild("guild", alice);
  auto general = n.create_channel(guild, "general");
  auto random = n.create_channel(guild, "random");

  auto alice_ws = connect(n, alice, 1);  // with GUILD_MEMBERS
  auto alice_quiet = connect(n, alice, 1, guilds_intent | guild_messages_intent);
  auto bob_ws = connect(n, bob, 0);  // no guild yet

  // Member add: bob's open session joins the guild, alice's sessions hear of him.
  n.add_member(guild, bob);
  auto joined = bob_ws->next_op(0, "GUILD_CREATE");
  REQUIRE(joined);
  {
    INFO("GUILD_CREATE " << joined->dump());
    CHECK((*joined)["d"]["id"] == guild);
    CHECK((*joined)["d"]["unavailable"] == false);
    CHECK((*joined)["d"]["member_count"] == 2);
    CHECK((*joined)["d"]["channels"].size() == 2);
  }
  auto member_add = alice_ws->next_op(0, "GUILD_MEMBER_ADD");
  REQUIRE(member_add);
  {
    INFO("GUILD_MEMBER_ADD " << member_add->dump());
    CHECK((*member_add)["d"]["guild_id"] == guild);
    CHECK((*member_add)["d"]["user"]["id"] == bob.id);
    CHECK((*member_add)["d"]["roles"].is_array());
    CHECK((*member_add)["d"]["joined_at"].is_string());
  }
  // Without GUILD_MEMBERS: no GUILD_MEMBER_ADD before a later message of the same guild.
  auto marker = n.post_message(alice, general, "after the join");
  REQUIRE(wait_message(*alice_quiet, marker["id"].get<std::string>()));
  CHECK_FALSE(saw_dispatch(*alice_quiet, "GUILD_MEMBER_ADD", "guild_id", guild));
  REQUIRE(wait_message(*bob_ws, marker["id"].get<std::string>()));

  // A member overwrite denying VIEW_CHANNEL hides #general from bob.
  n.set_member_overwrite(general, bob, 0, view_channel);
  auto deleted = bob_ws->next_op(0, "CHANNEL_DELETE");
  REQUIRE(deleted);
  CHECK((*deleted)["d"]["id"] == general);
  CHECK((*deleted)["d"]["guild_id"] == guild);
  auto hidden = n.post_message(alice, general, "bob cannot see this");
  auto hidden_id = hidden["id"].get<std::string>();
  auto visible = n.post_message(alice, random, "bob sees this");
  std::vector<json> seen;
  REQUIRE(wait_message(*bob_ws, visible["id"].get<std::string>(), &seen));
  for (const auto& m : seen) {
    INFO("bob got " << m.dump());
    CHECK(m["d"]["id"] != hidden_id);
  }
  CHECK_FALSE(saw_dispatch(*bob_ws, "MESSAGE_CREATE", "id", hidden_id));
  // alice still gets both.
  REQUIRE(wait_message(*alice_ws, visible["id"].get<std::string>()));
  CHECK(saw_dispatch(*alice_ws, "MESSAGE_CREATE", "id", hidden_id));

  // Allowing VIEW_CHANNEL again brings the channel back.
  n.set_member_overwrite(general, bob, view_channel, 0);
  auto created = bob_ws->next_op(0, "CHANNEL_CREATE");
  REQUIRE(created);
  {
    INFO("CHANNEL_CREATE " << created->dump());
    CHECK((*created)["d"]["id"] == general);
    CHECK((*created)["d"]["name"] == "general");
    CHECK((*created)["d"]["permission_overwrites"].is_array());
  }
  auto back = n.post_message(alice, general, "welcome back");
  auto got = wait_message(*bob_ws, back["id"].get<std::string>());
  REQUIRE(got);
  CHECK((*got)["d"]["channel_id"] == general);

  CHECK(alice_ws->seq_errors().empty());
  CHECK(alice_quiet->seq_errors().empty());
  CHECK(bob_ws->seq_errors().empty());
}

TEST_CASE("admin_api_rejects_duplicates_and_unknown_ids_without_dispatching_anything") {
  node n;
  auto alice = n.create_user("alice");
  auto bob = n.create_user("bob");
  auto guild = n.create_guild("guild", alice);
  auto general = n.create_channel(guild, "general");
  n.add_member(guild, bob);
  auto alice_ws = connect(n, alice, 1);
  auto bob_ws = connect(n, bob, 1);

  auto dup = testing::http_call(n.admin_port(), "POST", "/v1/members",
                                json{{"guild", guild}, {"user", bob.id}}.dump(), n.admin_headers());
  CHECK(dup.status == 409);
  auto unknown_user =
      testing::http_call(n.admin_port(), "POST", "/v1/members",
                         json{{"guild", guild}, {"user", "123"}}.dump(), n.admin_headers());
  CHECK(unknown_user.status == 404);
  auto unknown_guild =
      testing::http_call(n.admin_port(), "POST", "/v1/channels",
                         json{{"guild", "999"}, {"name", "x"}}.dump(), n.admin_headers());
  CHECK(unknown_guild.status == 404);
  auto both = testing::http_call(
      n.admin_port(), "PUT", "/v1/overwrites",
      json{{"channel", general}, {"member", bob.id}, {"role", guild}, {"allow", "0"}, {"deny", "0"}}
          .dump(),
      n.admin_headers());
  CHECK(both.status == 400);

  // Nothing was dispatched: the next dispatch both sessions see is this message.
  auto marker = n.post_message(alice, general, "marker");
  for (auto* ws : {alice_ws.get(), bob_ws.get()}) {
    auto f = ws->next(5s);
    REQUIRE(f);
    INFO("first frame after the rejected changes " << f->dump());
    CHECK((*f)["t"] == "MESSAGE_CREATE");
    CHECK((*f)["d"]["id"] == marker["id"]);
  }
}
