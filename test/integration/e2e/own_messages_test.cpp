// SPDX-License-Identifier: Apache-2.0
// Editing and deleting messages against a real heraldd follows Discord's order of checks:
// VIEW_CHANNEL (50001) before existence (10008) before authorship (50005) or
// MANAGE_MESSAGES (50013). An author who lost VIEW_CHANNEL can no longer touch their own
// messages, and viewers receive nothing for a refused edit or delete.
#include <string>

#include "e2e_fixture.hpp"

using namespace herald;
using namespace herald::e2e;

namespace {

constexpr uint32_t with_content = guilds_intent | guild_messages_intent | message_content_intent;

int code_of(const testing::http_answer& r) {
  return r.json().value("code", -1);
}

}  // namespace

TEST_CASE("an_author_without_view_channel_can_neither_edit_nor_delete_their_message") {
  node n;
  auto alice = n.create_user("alice");
  auto bob = n.create_user("bob");
  auto carol = n.create_user("carol");
  auto guild = n.create_guild("guild", alice);
  auto general = n.create_channel(guild, "general");
  n.add_member(guild, bob);
  n.add_member(guild, carol);
  auto carol_ws = connect(n, carol, 1, with_content);

  auto posted = n.post_message(bob, general, "bob's words");
  auto id = posted["id"].get<std::string>();
  REQUIRE(wait_message(*carol_ws, id));
  const std::string message = "/channels/" + general + "/messages/" + id;
  const std::string missing = "/channels/" + general + "/messages/1234567890123456789";

  n.set_member_overwrite(general, bob, 0, view_channel);
  testing::rest_client as_bob{n.gateway_port(), bob.token};
  testing::rest_client as_carol{n.gateway_port(), carol.token};
  testing::rest_client as_alice{n.gateway_port(), alice.token};

  // bob cannot see #general any more: 50001 for everything, existing message or not.
  for (const auto& r :
       {as_bob.patch(message, {{"content", "sneaky edit"}}), as_bob.del(message),
        as_bob.patch(missing, {{"content", "probe"}}), as_bob.del(missing), as_bob.get(message),
        as_bob.get(missing), as_bob.get("/channels/" + general + "/messages")}) {
    INFO(r.status << " " << r.body);
    CHECK(r.status == 403);
    CHECK(code_of(r) == 50001);
  }

  // carol sees the channel: the message's existence, then authorship / MANAGE_MESSAGES.
  auto not_hers = as_carol.patch(message, {{"content", "carol edits"}});
  CHECK(not_hers.status == 403);
  CHECK(code_of(not_hers) == 50005);
  auto no_manage = as_carol.del(message);
  CHECK(no_manage.status == 403);
  CHECK(code_of(no_manage) == 50013);
  auto unknown = as_carol.patch(missing, {{"content", "x"}});
  CHECK(unknown.status == 404);
  CHECK(code_of(unknown) == 10008);

  // The owner deletes it; carol gets the delete and never an update.
  CHECK(as_alice.del(message).status == 204);
  REQUIRE(carol_ws->next_op(0, "MESSAGE_DELETE"));
  CHECK_FALSE(saw_dispatch(*carol_ws, "MESSAGE_UPDATE", "id", id));
  CHECK(carol_ws->seq_errors().empty());
}

TEST_CASE("body_fields_of_the_wrong_type_are_400_50035_and_heraldctl_status_shows_refusals") {
  node n;
  auto alice = n.create_user("alice");
  auto guild = n.create_guild("guild", alice);
  auto general = n.create_channel(guild, "general");
  testing::rest_client as_alice{n.gateway_port(), alice.token};
  auto r = as_alice.post("/channels/" + general + "/messages", {{"content", "hi"}, {"tts", "yes"}});
  CHECK(r.status == 400);
  CHECK(code_of(r) == 50035);
  CHECK(r.json()["errors"].contains("tts"));

  auto status = n.ctl({"status"});
  INFO(status.out << status.err);
  REQUIRE(status.exit_code == 0);
  CHECK(status.out.find("refused:") != std::string::npos);
  CHECK(status.out.find("rest_global") != std::string::npos);
  CHECK(status.out.find("identify_rate") != std::string::npos);
}
