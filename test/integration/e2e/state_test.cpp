// SPDX-License-Identifier: Apache-2.0
// Guild state end to end: role overwrites reveal a private channel to the role's members only,
// text with quotes, escapes and non-ASCII survives every encoder byte for byte, and a restart
// on the same data keeps the guild while sessions must identify anew (op 9 d:false).
#include <set>
#include <string>
#include <vector>

#include "e2e_fixture.hpp"

using namespace herald;
using namespace herald::e2e;

namespace {

std::set<std::string> channel_names(json guild_create) {
  std::set<std::string> names;
  for (auto c : guild_create["d"]["channels"]) {
    names.insert(c["name"].get<std::string>());
  }
  return names;
}

}  // namespace

TEST_CASE("a_role_overwrite_reveals_a_private_channel_to_the_roles_members_only") {
  node n;
  auto alice = n.create_user("alice");
  auto bob = n.create_user("bob");
  auto carol = n.create_user("carol");
  auto guild = n.create_guild("guild", alice);
  auto general = n.create_channel(guild, "general");
  auto staff_role = n.create_role(guild, "staff", 0);
  n.add_member(guild, bob);
  auto bob_ws = connect(n, bob, 1);
  auto carol_ws = connect(n, carol, 0);

  // A private channel is announced to nobody but the owner.
  auto staff = n.create_channel(guild, "staff", true);
  n.add_member(guild, carol, {staff_role});
  auto carol_gc = carol_ws->next_op(0, "GUILD_CREATE");
  REQUIRE(carol_gc);
  CHECK(channel_names(*carol_gc) == std::set<std::string>{"general"});

  // The role overwrite reveals it to carol (who holds the role), not to bob.
  n.set_role_overwrite(staff, staff_role, view_channel | send_messages, 0);
  auto revealed = carol_ws->next_op(0, "CHANNEL_CREATE");
  REQUIRE(revealed);
  CHECK((*revealed)["d"]["id"] == staff);
  auto in_staff = n.post_message(carol, staff, "carol in staff");
  auto marker = n.post_message(alice, general, "marker");
  REQUIRE(wait_message(*carol_ws, in_staff["id"].get<std::string>()));
  REQUIRE(wait_message(*bob_ws, marker["id"].get<std::string>()));
  CHECK_FALSE(saw_dispatch(*bob_ws, "CHANNEL_CREATE", "id", staff));
  CHECK_FALSE(saw_dispatch(*bob_ws, "MESSAGE_CREATE", "channel_id", staff));

  // Denying @everyone VIEW on #general hides it from both members (not from the owner).
  n.set_role_overwrite(general, guild, 0, view_channel);
  for (auto* ws : {bob_ws.get(), carol_ws.get()}) {
    auto hidden = ws->next_op(0, "CHANNEL_DELETE");
    REQUIRE(hidden);
    CHECK((*hidden)["d"]["id"] == general);
    CHECK(ws->seq_errors().empty());
  }
  auto owner_post = n.post_message(alice, general, "owner still writes here");
  CHECK(owner_post["channel_id"] == general);
}

TEST_CASE("quotes_escapes_and_non_ascii_text_survive_rest_and_every_gateway_payload") {
  node n;
  const std::string tricky = "\"quoted\" back\\slash\nnew line\ttab \x01 </script> é ✓ 😀";
  auto alice = n.create_user("al\"ice ✓");
  auto guild = n.create_guild("g\\u0000ild \"☃\"", alice);
  auto channel = n.create_channel(guild, "chan\tnel 😀");
  n.create_role(guild, "r\"o\\le\n", 0);

  testing::gateway_client ws{n.gateway_port()};
  auto ready = ws.login(alice.token, 1);
  CHECK(ready["d"]["user"]["username"] == alice.name);
  auto gc = ws.frames().back();
  REQUIRE(gc["t"] == "GUILD_CREATE");
  CHECK(gc["d"]["name"] == "g\\u0000ild \"☃\"");
  CHECK(channel_names(gc) == std::set<std::string>{"chan\tnel 😀"});
  std::set<std::string> roles;
  for (auto r : gc["d"]["roles"]) {
    roles.insert(r["name"].get<std::string>());
  }
  CHECK(roles.count("r\"o\\le\n") == 1);

  auto posted = n.post_message(alice, channel, tricky);
  CHECK(posted["content"] == tricky);
  CHECK(posted["author"]["username"] == alice.name);
  auto got = wait_message(ws, posted["id"].get<std::string>());
  REQUIRE(got);
  CHECK((*got)["d"]["content"] == tricky);
  CHECK((*got)["d"]["author"]["username"] == alice.name);
  auto history =
      testing::rest_client{n.gateway_port(), alice.token}.get("/channels/" + channel + "/messages");
  REQUIRE(history.status == 200);
  auto list = history.json();
  REQUIRE(list.is_array());
  REQUIRE(list.size() == 1);
  CHECK(list[0]["content"] == tricky);
}

TEST_CASE("after_a_restart_the_guild_is_kept_and_a_resume_gets_op_9_d_false") {
  node n;
  auto alice = n.create_user("alice");
  auto bob = n.create_user("bob");
  auto guild = n.create_guild("guild", alice);
  auto general = n.create_channel(guild, "general");
  auto staff = n.create_channel(guild, "staff", true);
  auto staff_role = n.create_role(guild, "staff", 0);
  n.set_role_overwrite(staff, staff_role, view_channel, 0);
  n.add_member(guild, bob, {staff_role});
  auto posted = n.post_message(alice, general, "kept");

  std::string session_id;
  uint64_t seq = 0;
  json before;
  {
    testing::gateway_client ws{n.gateway_port()};
    ws.login(bob.token, 1);
    session_id = ws.session_id();
    seq = ws.last_seq();
    before = ws.frames().back();
  }
  n.restart();

  testing::gateway_client resume{n.gateway_port()};
  REQUIRE(resume.next());
  resume.resume(bob.token, session_id, seq);
  auto invalid = resume.next_op(9, "", 5s);
  REQUIRE(invalid);
  CHECK((*invalid)["d"] == false);

  // The same token identifies (tokens survive restarts) and sees the same guild.
  testing::gateway_client ws{n.gateway_port()};
  ws.login(bob.token, 1);
  auto after = ws.frames().back();
  REQUIRE(after["t"] == "GUILD_CREATE");
  CHECK(after["d"]["id"] == guild);
  CHECK(channel_names(after) == std::set<std::string>{"general", "staff"});
  CHECK(after["d"]["roles"].size() == before["d"]["roles"].size());
  CHECK(after["d"]["member_count"] == 2);
  CHECK(after["d"]["owner_id"] == alice.id);

  auto history =
      testing::rest_client{n.gateway_port(), bob.token}.get("/channels/" + general + "/messages");
  REQUIRE(history.status == 200);
  REQUIRE(history.json().is_array());
  REQUIRE(history.json().size() == 1);
  CHECK(history.json()[0]["id"] == posted["id"]);

  // New messages get ids above the old ones (the id generator does not restart at zero).
  auto next = n.post_message(alice, general, "after restart");
  CHECK(std::stoull(next["id"].get<std::string>()) > std::stoull(posted["id"].get<std::string>()));
  auto got = wait_message(ws, next["id"].get<std::string>());
  REQUIRE(got);
}
