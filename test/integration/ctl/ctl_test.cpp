// SPDX-License-Identifier: Apache-2.0
// heraldctl's control commands against a real heraldd: JSON and text output, the changes they
// make as REST clients see them, token revocation across restarts, and bad input.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "ctl_fixture.hpp"

using namespace herald;
using namespace herald::ctl_test;

TEST_CASE("every_heraldctl_control_command_succeeds_with_json_and_its_change_is_visible") {
  node_fixture node;
  auto alice = node.ctl_json({"user", "create", "--name", "alice"});
  auto alice_id = id_of(alice);
  CHECK(alice["name"] == "alice");
  CHECK(alice["bot"] == false);
  auto alice_token = alice.value("token", "");
  auto bob = node.ctl_json({"user", "create", "--name", "bob"});
  auto bot = node.ctl_json({"user", "create", "--name", "helper", "--bot"});
  CHECK(bot["bot"] == true);
  auto bob_token = bob.value("token", "");
  auto bot_token = bot.value("token", "");

  auto me = node.rest_get("/api/v10/users/@me", alice_token);
  CHECK(me.status == 200);
  CHECK(json::parse(me.body).value("id", "") == alice_id);

  auto guild = node.ctl_json({"guild", "create", "--name", "ctl guild", "--owner", alice_id});
  auto guild_id = id_of(guild);
  CHECK(guild["owner"] == alice_id);
  CHECK(lists_guild(node.rest_get("/api/v10/users/@me/guilds", alice_token).body, guild_id));

  auto general = node.ctl_json({"channel", "create", "--guild", guild_id, "--name", "general"});
  auto staff =
      node.ctl_json({"channel", "create", "--guild", guild_id, "--name", "staff", "--private"});
  CHECK(general["private"] == false);
  CHECK(staff["private"] == true);
  auto general_id = id_of(general);
  auto staff_id = id_of(staff);

  auto role = node.ctl_json(
      {"role", "create", "--guild", guild_id, "--name", "staff", "--permissions", "0"});
  auto role_id = id_of(role);
  CHECK(role["permissions"] == "0");

  // Before member add, bob sees no guild; after it, he does.
  CHECK_FALSE(lists_guild(node.rest_get("/api/v10/users/@me/guilds", bob_token).body, guild_id));
  auto added = node.ctl_json({"member", "add", "--guild", guild_id, "--user", id_of(bob)});
  CHECK(added["user"] == id_of(bob));
  CHECK(lists_guild(node.rest_get("/api/v10/users/@me/guilds", bob_token).body, guild_id));
  auto added_bot = node.ctl_json(
      {"member", "add", "--guild", guild_id, "--user", id_of(bot), "--role", role_id});
  CHECK(added_bot["roles"] == json::array({role_id}));

  // #staff is private: neither bob nor the bot may view it until the role's overwrite.
  CHECK(node.rest_get("/api/v10/channels/" + staff_id, bob_token).status == 403);
  CHECK(node.rest_get("/api/v10/channels/" + staff_id, bot_token).status == 403);
  auto ow = node.ctl_json({"overwrite", "set", "--channel", staff_id, "--role", role_id, "--allow",
                           "1024", "--deny", "0"});
  CHECK(ow["type"] == "role");
  CHECK(ow["allow"] == "1024");
  CHECK(node.rest_get("/api/v10/channels/" + staff_id, bot_token).status == 200);
  CHECK(node.rest_get("/api/v10/channels/" + staff_id, bob_token).status == 403);
  auto member_ow = node.ctl_json({"overwrite", "set", "--channel", general_id, "--member",
                                  id_of(bob), "--allow", "0", "--deny", "2048"});
  CHECK(member_ow["type"] == "member");

  auto sent = node.ctl_json(
      {"message", "send", "--channel", general_id, "--as", alice_id, "--content", "hello all"});
  auto message_id = id_of(sent);
  CHECK(sent["content"] == "hello all");
  CHECK(sent["author"] == alice_id);
  auto read =
      node.rest_get("/api/v10/channels/" + general_id + "/messages/" + message_id, bob_token);
  CHECK(read.status == 200);
  CHECK(json::parse(read.body).value("content", "") == "hello all");
  // bob is denied SEND_MESSAGES in #general by his member overwrite.
  auto refused =
      node.ctl({"message", "send", "--channel", general_id, "--as", id_of(bob), "--content", "hi"});
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("403") != std::string::npos);

  // member remove: the bot leaves the guild (a removal, not a kick: no hierarchy applies).
  auto removed = node.ctl_json({"member", "remove", "--guild", guild_id, "--user", id_of(bot)});
  CHECK(removed["guild"] == guild_id);
  CHECK(removed["user"] == id_of(bot));
  CHECK_FALSE(lists_guild(node.rest_get("/api/v10/users/@me/guilds", bot_token).body, guild_id));
  CHECK(node.rest_get("/api/v10/channels/" + staff_id, bot_token).status == 403);

  auto revoked = node.ctl_json({"token", "revoke", "--user", alice_id});
  auto fresh_token = revoked.value("token", "");
  CHECK(revoked["id"] == alice_id);
  CHECK(node.rest_get("/api/v10/users/@me", alice_token).status == 401);
  CHECK(node.rest_get("/api/v10/users/@me", fresh_token).status == 200);

  SECTION("tokens and revocations survive a restart on the same data dir") {
    CHECK(node.stop() == 0);
    node.start();
    CHECK(node.rest_get("/api/v10/users/@me", alice_token).status == 401);
    CHECK(node.rest_get("/api/v10/users/@me", fresh_token).status == 200);
    CHECK(node.rest_get("/api/v10/users/@me", bob_token).status == 200);
    CHECK(lists_guild(node.rest_get("/api/v10/users/@me/guilds", bob_token).body, guild_id));
  }
}

TEST_CASE("heraldctl_prints_key_value_lines_without_json") {
  node_fixture node;
  auto r = node.ctl({"user", "create", "--name", "carol", "--bot"});
  REQUIRE(r.exit_code == 0);
  std::map<std::string, std::string> fields;
  size_t start = 0;
  while (start < r.out.size()) {
    auto end = r.out.find('\n', start);
    auto line = r.out.substr(start, end - start);
    auto eq = line.find('=');
    REQUIRE(eq != std::string::npos);
    fields[line.substr(0, eq)] = line.substr(eq + 1);
    start = end == std::string::npos ? r.out.size() : end + 1;
  }
  CHECK(fields["name"] == "carol");
  CHECK(fields["bot"] == "true");
  CHECK_FALSE(fields["id"].empty());
  CHECK(std::count(fields["token"].begin(), fields["token"].end(), '.') == 2);
}

TEST_CASE("bad_heraldctl_input_gets_one_error_line_and_exit_1_or_2_and_the_node_keeps_serving") {
  node_fixture node;
  auto owner = id_of(node.ctl_json({"user", "create", "--name", "owner"}));
  auto guild = id_of(node.ctl_json({"guild", "create", "--name", "g", "--owner", owner}));

  struct bad_case {
    std::vector<std::string> args;
    int exit_code;
    std::string says;
  };
  const std::vector<bad_case> cases = {
      {{"guild", "create", "--name", "g", "--owner", "12345"}, 1, "404"},
      {{"channel", "create", "--guild", "999", "--name", "x"}, 1, "404"},
      {{"role", "create", "--guild", guild, "--name", "r", "--permissions", "9223372036854775808"},
       1,
       "400"},
      {{"member", "add", "--guild", guild, "--user", owner}, 1, "409"},
      {{"member", "add", "--guild", guild, "--user", owner, "--role", "77"}, 1, ""},
      {{"member", "remove", "--guild", guild, "--user", owner}, 1, "403"},  // never the owner
      {{"member", "remove", "--guild", guild, "--user", "42"}, 1, "404"},
      {{"member", "remove", "--guild", guild}, 2, "--user"},
      {{"overwrite", "set", "--channel", "5", "--role", "1", "--allow", "0", "--deny", "0"},
       1,
       "404"},
      {{"overwrite", "set", "--channel", "5", "--allow", "0", "--deny", "0"}, 2, "--role"},
      {{"message", "send", "--channel", "5", "--as", owner, "--content", "x"}, 1, "404"},
      {{"token", "revoke", "--user", "42"}, 1, "404"},
      {{"user", "create"}, 2, "--name"},
      {{"user", "create", "--name", std::string(40, 'n')}, 1, "400"},
      {{"guild", "create", "--name", "g", "--owner", "abc"}, 2, "--owner"},
      {{"user", "frobnicate"}, 2, ""},
  };
  for (const auto& c : cases) {
    INFO("heraldctl " << c.args[0] << " " << c.args[1]);
    auto r = node.ctl(c.args);
    INFO("stderr: " << r.err);
    CHECK(r.exit_code == c.exit_code);
    CHECK(r.out.empty());
    CHECK(r.err.rfind("heraldctl: ", 0) == 0);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.err.find(c.says) != std::string::npos);
  }

  // Malformed bodies straight to the admin API are 400s with an error object.
  for (const char* body : {"", "[]", "{\"name\": 5}", "{\"name\": \"x\", \"bot\": \"yes\"}",
                           "{\"name\": \"x\"", "\xff\xfe"}) {
    INFO("body: " << body);
    auto r = net::http_fetch("127.0.0.1", node.admin_port(), "POST", "/v1/users", body, 5s,
                             testing::admin_auth(node.admin_token()));
    REQUIRE(r.ok());
    CHECK(r.status == 400);
    CHECK(json::parse(r.body, nullptr, false).contains("error"));
  }

  auto unreachable =
      testing::run_process(testing::bin_path("heraldctl"),
                           {"--node", "127.0.0.1:1", "user", "create", "--name", "x", "--json"});
  CHECK(unreachable.exit_code == 1);
  CHECK(unreachable.err.find("cannot reach node") != std::string::npos);

  auto still = node.ctl_json({"user", "create", "--name", "after"});
  CHECK_FALSE(id_of(still).empty());
  CHECK(node.stop() == 0);
}
