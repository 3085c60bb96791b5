// SPDX-License-Identifier: Apache-2.0
// READY and GUILD_CREATE carry every field docs/gateway.md requires, against a real heraldd.
#include <set>
#include <string>

#include "e2e_fixture.hpp"

using namespace herald;
using namespace herald::e2e;

namespace {

void check_overwrite(json ow) {
  INFO("overwrite " << ow.dump());
  CHECK(is_snowflake(ow["id"]));
  CHECK(ow["type"].is_number_integer());
  CHECK(is_snowflake(ow["allow"]));  // a permission bitfield as a decimal string
  CHECK(is_snowflake(ow["deny"]));
}

void check_channel(json c, const std::string& guild_id) {
  INFO("channel " << c.dump());
  CHECK(is_snowflake(c["id"]));
  CHECK(c["type"] == 0);
  CHECK(c["name"].is_string());
  CHECK(c["position"].is_number_integer());
  REQUIRE(c["permission_overwrites"].is_array());
  for (const auto& ow : c["permission_overwrites"]) {
    check_overwrite(ow);
  }
  if (c.contains("guild_id")) {
    CHECK(c["guild_id"] == guild_id);
  }
}

void check_role(json r) {
  INFO("role " << r.dump());
  CHECK(is_snowflake(r["id"]));
  CHECK(r["name"].is_string());
  CHECK(r["color"].is_number_integer());
  REQUIRE(r["colors"].is_object());
  CHECK(r["colors"]["primary_color"].is_number_integer());
  CHECK(r["colors"].contains("secondary_color"));
  CHECK((r["colors"]["secondary_color"].is_null() ||
         r["colors"]["secondary_color"].is_number_integer()));
  CHECK(r["colors"].contains("tertiary_color"));
  CHECK((r["colors"]["tertiary_color"].is_null() ||
         r["colors"]["tertiary_color"].is_number_integer()));
  CHECK(r["hoist"].is_boolean());
  CHECK(r["position"].is_number_integer());
  CHECK(is_snowflake(r["permissions"]));
  CHECK(r["managed"].is_boolean());
  CHECK(r["mentionable"].is_boolean());
  CHECK(r["flags"].is_number_integer());
}

/// Checks one GUILD_CREATE frame; returns the names of the channels it lists.
std::set<std::string> check_guild_create(json frame, const std::string& guild_id,
                                         const std::string& name, const user& owner,
                                         size_t member_count,
                                         const std::set<std::string>& members) {
  INFO("GUILD_CREATE " << frame.dump());
  json d = frame["d"];
  CHECK(d["id"] == guild_id);
  CHECK(d["name"] == name);
  CHECK(d["unavailable"] == false);
  CHECK(d["owner_id"] == owner.id);
  CHECK(d["member_count"] == member_count);
  CHECK(d["joined_at"].is_string());
  CHECK(d["joined_at"].get<std::string>().find('T') != std::string::npos);
  CHECK(d["large"].is_boolean());
  std::set<std::string> channel_names;
  REQUIRE(d["channels"].is_array());
  for (auto c : d["channels"]) {
    check_channel(c, guild_id);
    channel_names.insert(c.value("name", ""));
  }
  REQUIRE(d["roles"].is_array());
  bool everyone = false;
  for (auto r : d["roles"]) {
    check_role(r);
    everyone = everyone || r["id"] == guild_id;
  }
  CHECK(everyone);  // the @everyone role's id is the guild's
  REQUIRE(d["members"].is_array());
  std::set<std::string> member_ids;
  for (auto m : d["members"]) {
    REQUIRE(m["user"].is_object());
    CHECK(is_snowflake(m["user"]["id"]));
    CHECK(m["user"]["username"].is_string());
    CHECK(m["roles"].is_array());
    member_ids.insert(m["user"].value("id", ""));
  }
  CHECK(member_ids == members);
  return channel_names;
}

}  // namespace

TEST_CASE("ready_and_every_guild_create_carry_all_the_fields_gateway_md_requires") {
  node n;
  auto alice = n.create_user("alice");
  auto bob = n.create_user("bob");
  auto bot = n.create_user("herald-bot", true);
  auto alpha = n.create_guild("alpha", alice);
  auto beta = n.create_guild("beta", alice);
  n.create_channel(alpha, "general");
  auto staff = n.create_channel(alpha, "staff", true);
  auto mod = n.create_role(alpha, "mod", view_channel | send_messages);
  n.set_role_overwrite(staff, mod, view_channel, 0);
  n.add_member(alpha, bob);

  // alice identifies with shard [0, 1] and sees both guilds.
  testing::gateway_client ws{n.gateway_port()};
  auto hello = ws.next();
  REQUIRE(hello);
  CHECK((*hello)["op"] == 10);
  CHECK((*hello)["d"]["heartbeat_interval"].is_number_integer());
  ws.identify(alice.token, all_used_intents, std::make_pair(0, 1));
  auto ready = ws.next_op(0, "READY");
  REQUIRE(ready);
  INFO("READY " << ready->dump());
  CHECK((*ready)["s"] == 1);
  json d = (*ready)["d"];
  CHECK(d["v"] == 10);
  REQUIRE(d["user"].is_object());
  CHECK(d["user"]["id"] == alice.id);
  CHECK(d["user"]["username"] == "alice");
  CHECK(d["user"]["discriminator"] == "0");
  CHECK(d["user"].value("bot", false) == false);  // optional for non-bots
  REQUIRE(d["guilds"].is_array());
  std::set<std::string> listed;
  for (auto g : d["guilds"]) {
    CHECK(is_snowflake(g["id"]));
    CHECK(g["unavailable"] == true);
    listed.insert(g.value("id", ""));
  }
  CHECK(listed == std::set<std::string>{alpha, beta});
  CHECK(d["private_channels"] == json::array());
  REQUIRE(d["session_id"].is_string());
  CHECK_FALSE(d["session_id"].get<std::string>().empty());
  REQUIRE(d["resume_gateway_url"].is_string());
  CHECK(d["resume_gateway_url"].get<std::string>().rfind("ws", 0) == 0);
  REQUIRE(d["application"].is_object());
  CHECK(is_snowflake(d["application"]["id"]));
  CHECK(d["application"]["flags"].is_number_integer());
  CHECK(d["shard"] == json::array({0, 1}));

  std::set<std::string> created;
  for (uint64_t s = 2; s <= 3; ++s) {
    auto gc = ws.next_op(0, "GUILD_CREATE");
    REQUIRE(gc);
    CHECK((*gc)["s"] == s);
    auto id = (*gc)["d"].value("id", "");
    created.insert(id);
    if (id == alpha) {
      auto channels = check_guild_create(*gc, alpha, "alpha", alice, 2, {alice.id, bob.id});
      // The owner views every channel, the private one included.
      CHECK(channels == std::set<std::string>{"general", "staff"});
    } else {
      auto channels = check_guild_create(*gc, beta, "beta", alice, 1, {alice.id});
      CHECK(channels.empty());
    }
  }
  CHECK(created == std::set<std::string>{alpha, beta});
  CHECK(ws.seq_errors().empty());

  // bob sees alpha without the private #staff; no shard sent → none in READY.
  testing::gateway_client bob_ws{n.gateway_port()};
  REQUIRE(bob_ws.next());
  bob_ws.identify(bob.token, all_used_intents);
  auto bob_ready = bob_ws.next_op(0, "READY");
  REQUIRE(bob_ready);
  CHECK((*bob_ready)["s"] == 1);
  CHECK((*bob_ready)["d"]["user"]["id"] == bob.id);
  CHECK_FALSE((*bob_ready)["d"].contains("shard"));
  CHECK((*bob_ready)["d"]["guilds"].size() == 1);
  auto bob_gc = bob_ws.next_op(0, "GUILD_CREATE");
  REQUIRE(bob_gc);
  CHECK((*bob_gc)["s"] == 2);
  auto bob_channels = check_guild_create(*bob_gc, alpha, "alpha", alice, 2, {alice.id, bob.id});
  CHECK(bob_channels == std::set<std::string>{"general"});

  // A bot user without guilds: bot true, empty guild list, READY alone.
  testing::gateway_client bot_ws{n.gateway_port()};
  auto bot_ready = bot_ws.login("Bot " + bot.token, 0);
  CHECK(bot_ready["d"]["user"]["bot"] == true);
  CHECK(bot_ready["d"]["user"]["discriminator"] == "0");
  CHECK(bot_ready["d"]["guilds"] == json::array());
  CHECK(bot_ready["d"]["private_channels"] == json::array());
}
