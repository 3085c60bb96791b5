// SPDX-License-Identifier: Apache-2.0
// The reactions feature on a real heraldd (features.enabled = ["reactions"]), driven as a
// Discord client would: REST routes under /api/v10 and a gateway client holding the
// GUILD_MESSAGE_REACTIONS intent. A node without the feature mounts none of its routes.
#include <map>

#include "test/integration/e2e/e2e_fixture.hpp"

namespace herald::e2e {
namespace {

constexpr uint32_t reactions_intent = 1u << 10;
constexpr uint64_t add_reactions = 1u << 6;
const std::string enabled = "\n[features]\nenabled = [\"reactions\"]\n";
const std::string thumbs = "%F0%9F%91%8D";  // 👍 as discord.js encodes it

std::string reaction_path(const std::string& channel, const std::string& message,
                          const std::string& emoji = thumbs) {
  return "/channels/" + channel + "/messages/" + message + "/reactions/" + emoji;
}

int code_of(const testing::http_answer& r) {
  auto j = r.json();
  return j.is_object() && j.contains("code") ? j["code"].get<int>() : -1;
}

/// Reads until the dispatch `t` about `message_id` by `user_id`; nullopt on timeout.
std::optional<json> wait_reaction(testing::gateway_client& c, const std::string& t,
                                  const std::string& message_id, const std::string& user_id) {
  for (int i = 0; i < 50; ++i) {
    auto f = c.next_op(0, t, 5s);
    if (!f) {
      return std::nullopt;
    }
    if ((*f)["d"]["message_id"] == message_id && (*f)["d"]["user_id"] == user_id) {
      return f;
    }
  }
  return std::nullopt;
}

size_t reaction_frames(const testing::gateway_client& c) {
  size_t n = 0;
  for (const auto& f : c.frames()) {
    if (f.value("op", -1) == 0 && f["t"].is_string() &&
        f["t"].get<std::string>().rfind("MESSAGE_REACTION_", 0) == 0) {
      ++n;
    }
  }
  return n;
}

TEST_CASE("reactions_over_rest_reach_gateway_clients_holding_the_reactions_intent") {
  node n{enabled};
  auto owner = n.create_user("owner");
  auto bob = n.create_user("bob");
  auto guild = n.create_guild("g", owner);
  n.add_member(guild, bob);
  auto channel = n.create_channel(guild, "general");
  auto message = n.post_message(owner, channel, "react to me")["id"].get<std::string>();
  auto watcher = connect(n, bob, 1, all_used_intents | reactions_intent);
  auto no_intent = connect(n, owner, 1, all_used_intents);
  testing::rest_client as_bob{n.gateway_port(), bob.token};

  auto put = as_bob.put(reaction_path(channel, message) + "/@me");
  INFO("PUT -> " << put.status << " " << put.body);
  REQUIRE(put.status == 204);
  auto added = wait_reaction(*watcher, "MESSAGE_REACTION_ADD", message, bob.id);
  REQUIRE(added);
  CHECK((*added)["d"]["channel_id"] == channel);
  CHECK((*added)["d"]["guild_id"] == guild);
  CHECK((*added)["d"]["emoji"]["name"] == "👍");
  CHECK((*added)["d"]["emoji"]["id"].is_null());
  // A repeat changes nothing and dispatches nothing.
  CHECK(as_bob.put(reaction_path(channel, message) + "/@me").status == 204);

  auto listed = as_bob.get(reaction_path(channel, message));
  REQUIRE(listed.status == 200);
  auto users = listed.json();
  REQUIRE(users.is_array());
  REQUIRE(users.size() == 1);
  CHECK(users[0]["id"] == bob.id);
  CHECK(users[0]["username"] == "bob");

  CHECK(as_bob.del(reaction_path(channel, message) + "/@me").status == 204);
  REQUIRE(wait_reaction(*watcher, "MESSAGE_REACTION_REMOVE", message, bob.id));
  CHECK(as_bob.get(reaction_path(channel, message)).json() == json::array());

  // Marker: every reaction event was ordered before it, so both clients have them by now.
  auto marker = n.post_message(owner, channel, "marker")["id"].get<std::string>();
  REQUIRE(wait_message(*watcher, marker));
  REQUIRE(wait_message(*no_intent, marker));
  CHECK(reaction_frames(*watcher) == 2);  // one ADD (not two), one REMOVE
  CHECK(reaction_frames(*no_intent) == 0);
}

TEST_CASE("reactions_the_guild_refuses_answer_discord_errors_and_dispatch_nothing") {
  node n{enabled};
  auto owner = n.create_user("owner");
  auto bob = n.create_user("bob");
  auto carol = n.create_user("carol");
  auto guild = n.create_guild("g", owner);
  n.add_member(guild, bob);
  n.add_member(guild, carol);
  auto channel = n.create_channel(guild, "general");
  auto staff = n.create_channel(guild, "staff", true);
  auto message = n.post_message(owner, channel, "m")["id"].get<std::string>();
  auto secret = n.post_message(owner, staff, "s")["id"].get<std::string>();
  n.set_member_overwrite(channel, carol, 0, add_reactions);
  auto watcher = connect(n, owner, 1, all_used_intents | reactions_intent);
  testing::rest_client as_bob{n.gateway_port(), bob.token};
  testing::rest_client as_carol{n.gateway_port(), carol.token};

  auto denied = as_carol.put(reaction_path(channel, message) + "/@me");
  CHECK(denied.status == 403);
  CHECK(code_of(denied) == 50013);
  auto hidden = as_bob.put(reaction_path(staff, secret) + "/@me");
  CHECK(hidden.status == 403);
  CHECK(code_of(hidden) == 50001);
  // bob reacts, carol may not remove bob's reaction (MANAGE_MESSAGES), the owner may.
  REQUIRE(as_bob.put(reaction_path(channel, message) + "/@me").status == 204);
  auto not_mod = as_carol.del(reaction_path(channel, message) + "/" + bob.id);
  CHECK(not_mod.status == 403);
  CHECK(code_of(not_mod) == 50013);
  testing::rest_client as_owner{n.gateway_port(), owner.token};
  CHECK(as_owner.del(reaction_path(channel, message) + "/" + bob.id).status == 204);

  // A custom emoji's id must be a snowflake.
  auto bad_emoji = as_bob.put(reaction_path(channel, message, "party:blob") + "/@me");
  CHECK(bad_emoji.status == 400);
  CHECK(code_of(bad_emoji) == 10014);
  auto no_channel = as_bob.put(reaction_path("123456789", message) + "/@me");
  CHECK(no_channel.status == 404);
  CHECK(code_of(no_channel) == 10003);
  auto no_message = as_bob.put(reaction_path(channel, "123456789") + "/@me");
  CHECK(no_message.status == 404);
  CHECK(code_of(no_message) == 10008);
  CHECK(as_bob.put(reaction_path(channel, message) + "/@me").status == 204);

  auto marker = n.post_message(owner, channel, "marker")["id"].get<std::string>();
  REQUIRE(wait_message(*watcher, marker));
  // bob's first ADD, the owner's removal of it, bob's second ADD: nothing refused was sent.
  CHECK(reaction_frames(*watcher) == 3);
}

TEST_CASE("reactions_show_in_message_objects_survive_a_restart_and_go_with_their_message") {
  node n{enabled};
  auto owner = n.create_user("owner");
  auto bob = n.create_user("bob");
  auto guild = n.create_guild("g", owner);
  n.add_member(guild, bob);
  auto channel = n.create_channel(guild, "general");
  auto message = n.post_message(owner, channel, "react to me")["id"].get<std::string>();
  auto plain = n.post_message(owner, channel, "no reactions")["id"].get<std::string>();
  testing::rest_client as_bob{n.gateway_port(), bob.token};
  testing::rest_client as_owner{n.gateway_port(), owner.token};
  REQUIRE(as_bob.put(reaction_path(channel, message) + "/@me").status == 204);
  REQUIRE(as_owner.put(reaction_path(channel, message) + "/@me").status == 204);

  auto check_counts = [&](testing::rest_client& as, bool me) {
    auto one = as.get("/channels/" + channel + "/messages/" + message);
    REQUIRE(one.status == 200);
    auto reactions = one.json()["reactions"];
    INFO(one.body);
    REQUIRE(reactions.is_array());
    REQUIRE(reactions.size() == 1);
    CHECK(reactions[0]["count"] == 2);
    CHECK(reactions[0]["me"] == me);
    CHECK(reactions[0]["emoji"]["name"] == "👍");
    auto page = as.get("/channels/" + channel + "/messages?limit=10").json();
    REQUIRE(page.is_array());
    for (const auto& m : page) {
      CHECK(m.contains("reactions") == (m["id"] == message));  // Discord omits an empty list
    }
  };
  check_counts(as_bob, true);

  n.restart();
  testing::rest_client after_bob{n.gateway_port(), bob.token};
  testing::rest_client after_owner{n.gateway_port(), owner.token};
  check_counts(after_bob, true);
  auto users = after_bob.get(reaction_path(channel, message)).json();
  CHECK(users.size() == 2);
  // A repeat after the restart is still a repeat: the state was loaded, not rebuilt.
  CHECK(after_bob.put(reaction_path(channel, message) + "/@me").status == 204);
  check_counts(after_bob, true);

  REQUIRE(after_owner.del("/channels/" + channel + "/messages/" + message).status == 204);
  CHECK(after_bob.get(reaction_path(channel, message)).json() == json::array());
  CHECK(code_of(after_bob.put(reaction_path(channel, message) + "/@me")) == 10008);
  n.restart();
  testing::rest_client last{n.gateway_port(), bob.token};
  CHECK(last.get(reaction_path(channel, message)).json() == json::array());
  CHECK_FALSE(last.get("/channels/" + channel + "/messages/" + plain).json().contains("reactions"));
}

TEST_CASE("feature_supervisors_hang_under_the_nodes_supervision_tree") {
  node n{enabled};
  auto status = n.ctl({"status", "--json"});
  INFO(status.err);
  REQUIRE(status.exit_code == 0);
  auto j = json::parse(status.out);
  std::map<std::string, std::string> parent_of;
  for (const auto& s : j.at("supervisors")) {
    parent_of[s.at("name").get<std::string>()] = s.at("parent").get<std::string>();
  }
  INFO(status.out);
  CHECK(parent_of.count("features") == 1);
  CHECK(parent_of["features"] == "service_sup");
  CHECK(parent_of["reactions"] == "features");  // the counters' partitions' owner
  CHECK(parent_of["reactions.0"] == "reactions");
}

TEST_CASE("a_node_without_the_reactions_feature_mounts_none_of_its_routes") {
  node n;
  auto owner = n.create_user("owner");
  auto guild = n.create_guild("g", owner);
  auto channel = n.create_channel(guild, "general");
  auto message = n.post_message(owner, channel, "m")["id"].get<std::string>();
  testing::rest_client as_owner{n.gateway_port(), owner.token};
  CHECK(as_owner.put(reaction_path(channel, message) + "/@me").status == 404);
  CHECK(as_owner.get(reaction_path(channel, message)).status == 404);
}

}  // namespace
}  // namespace herald::e2e
