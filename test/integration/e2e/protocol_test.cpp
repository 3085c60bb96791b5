// SPDX-License-Identifier: Apache-2.0
// Gateway protocol details against a real heraldd: the close-code table, heartbeats, the
// frame rate limit, sharding, intents, zlib-stream, resume edge cases, and REST edits and
// deletes dispatched only where the channel is visible.
#include <set>
#include <string>
#include <vector>

#include "e2e_fixture.hpp"

using namespace herald;
using namespace herald::e2e;

namespace {

/// A connection that has read Hello.
std::unique_ptr<testing::gateway_client> hello(const node& n,
                                               const std::string& target = "/?v=10&encoding=json") {
  auto c = std::make_unique<testing::gateway_client>(n.gateway_port(), target);
  auto h = c->next();
  REQUIRE(h);
  REQUIRE((*h)["op"] == 10);
  return c;
}

}  // namespace

TEST_CASE("the_gateway_closes_with_the_code_the_close_code_table_gives") {
  node n;
  auto alice = n.create_user("alice");
  n.create_guild("guild", alice);

  SECTION("4003: a known op other than Identify/Resume/Heartbeat before Identify") {
    auto ws = hello(n);
    ws->send({{"op", 3},
              {"d",
               {{"status", "online"},
                {"since", nullptr},
                {"activities", json::array()},
                {"afk", false}}}});
    CHECK(ws->wait_close(5s) == 4003);
  }
  SECTION("4004: a bad token") {
    auto ws = hello(n);
    ws->identify("Bot not-a-token");
    CHECK(ws->wait_close(5s) == 4004);
  }
  SECTION("4005: a second Identify") {
    testing::gateway_client ws{n.gateway_port()};
    ws.login(alice.token, 1);
    ws.identify(alice.token);
    CHECK(ws.wait_close(5s) == 4005);
  }
  SECTION("4007: a resume with a seq the server never sent") {
    std::string session_id;
    {
      testing::gateway_client ws{n.gateway_port()};
      ws.login(alice.token, 1);
      session_id = ws.session_id();
      ws.drop();
    }
    auto ws = hello(n);
    ws->resume(alice.token, session_id, 1000);
    CHECK(ws->wait_close(5s) == 4007);
  }
  SECTION("4010: an invalid shard") {
    auto ws = hello(n);
    ws->identify(alice.token, all_used_intents, std::make_pair(2, 2));
    CHECK(ws->wait_close(5s) == 4010);
  }
  SECTION("4012: an API version other than 10") {
    testing::gateway_client ws{n.gateway_port(), "/?v=9&encoding=json"};
    CHECK(ws.wait_close(5s) == 4012);
    for (const auto& f : ws.frames()) {
      CHECK(f["op"] != 0);
    }
  }
  SECTION("4013: unknown intent bits") {
    auto ws = hello(n);
    ws->identify(alice.token, 1u << 30);
    CHECK(ws->wait_close(5s) == 4013);
  }
}

TEST_CASE("heartbeats_are_acknowledged_and_the_121st_frame_within_a_minute_closes_with_4008") {
  node n;
  auto ws = hello(n);
  for (int i = 0; i < 120; ++i) {
    ws->heartbeat();
  }
  for (int i = 0; i < 120; ++i) {
    auto ack = ws->next(5s);
    REQUIRE(ack);
    CHECK((*ack)["op"] == 11);
  }
  ws->heartbeat();
  CHECK(ws->wait_close(5s) == 4008);
}

TEST_CASE("a_shard_receives_only_the_guilds_whose_id_maps_to_it") {
  node n;
  auto alice = n.create_user("alice");
  std::set<std::string> by_shard[2];
  for (int i = 0; i < 4; ++i) {
    auto id = n.create_guild("guild " + std::to_string(i), alice);
    by_shard[(std::stoull(id) >> 22) % 2].insert(id);
  }
  for (int shard = 0; shard < 2; ++shard) {
    INFO("shard " << shard);
    auto ws = hello(n);
    ws->identify(alice.token, all_used_intents, std::make_pair(shard, 2));
    auto ready = ws->next_op(0, "READY");
    REQUIRE(ready);
    std::set<std::string> listed;
    for (auto g : (*ready)["d"]["guilds"]) {
      listed.insert(g["id"].get<std::string>());
    }
    CHECK(listed == by_shard[shard]);
    CHECK((*ready)["d"]["shard"] == json::array({shard, 2}));
    std::set<std::string> created;
    for (size_t i = 0; i < by_shard[shard].size(); ++i) {
      auto gc = ws->next_op(0, "GUILD_CREATE");
      REQUIRE(gc);
      created.insert((*gc)["d"]["id"].get<std::string>());
    }
    CHECK(created == by_shard[shard]);
  }
}

TEST_CASE("compress_zlib_stream_delivers_the_same_ready_and_dispatches_inflated") {
  node n;
  auto alice = n.create_user("alice");
  auto guild = n.create_guild("guild", alice);
  auto general = n.create_channel(guild, "general");
  testing::gateway_client ws{n.gateway_port(), "/?v=10&encoding=json&compress=zlib-stream"};
  auto ready = ws.login(alice.token, 1);
  CHECK(ready["d"]["user"]["id"] == alice.id);
  auto posted = n.post_message(alice, general, "compressed");
  auto got = wait_message(ws, posted["id"].get<std::string>());
  REQUIRE(got);
  CHECK((*got)["d"]["content"] == "compressed");
  CHECK(ws.binary_messages() == ws.frames().size());
  CHECK(ws.seq_errors().empty());
}

TEST_CASE("without_the_guild_messages_intent_a_session_gets_no_message_create") {
  node n;
  auto alice = n.create_user("alice");
  auto guild = n.create_guild("guild", alice);
  auto general = n.create_channel(guild, "general");
  auto quiet = connect(n, alice, 1, guilds_intent);
  n.post_message(alice, general, "not for you");
  // A later channel event (GUILDS intent) of the same guild comes after the message would have.
  auto later = n.create_channel(guild, "later");
  auto created = quiet->next_op(0, "CHANNEL_CREATE");
  REQUIRE(created);
  CHECK((*created)["d"]["id"] == later);
  for (const auto& f : quiet->frames()) {
    CHECK(f["t"] != "MESSAGE_CREATE");
  }
}

TEST_CASE("a_resume_with_another_users_token_never_takes_over_the_session") {
  node n;
  auto alice = n.create_user("alice");
  auto mallory = n.create_user("mallory");
  auto guild = n.create_guild("guild", alice);
  auto general = n.create_channel(guild, "general");
  std::string session_id;
  uint64_t seq = 0;
  {
    auto ws = connect(n, alice, 1);
    session_id = ws->session_id();
    seq = ws->last_seq();
    ws->drop();
  }
  n.post_message(alice, general, "private to alice's session");
  auto thief = hello(n);
  thief->resume(mallory.token, session_id, seq);
  auto f = thief->next(5s);
  if (f) {
    INFO("mallory got " << f->dump());
    CHECK((*f)["op"] == 9);
    CHECK((*f)["d"] == false);
  } else {
    CHECK(thief->close_code() == 4004);
  }
  for (const auto& frame : thief->frames()) {
    CHECK(frame["op"] != 0);
  }
  // alice can still resume it and gets the message.
  auto back = hello(n);
  back->set_last_seq(seq);
  back->resume(alice.token, session_id, seq);
  auto replayed = back->next_op(0, "MESSAGE_CREATE", 5s);
  REQUIRE(replayed);
  CHECK((*replayed)["d"]["content"] == "private to alice's session");
  CHECK(back->next_op(0, "RESUMED", 5s));
}

TEST_CASE("a_resume_while_the_old_connection_is_still_open_moves_the_session_to_the_new_one") {
  node n;
  auto alice = n.create_user("alice");
  auto guild = n.create_guild("guild", alice);
  auto general = n.create_channel(guild, "general");
  auto old_ws = connect(n, alice, 1);
  auto seq = old_ws->last_seq();
  auto fresh = hello(n);
  fresh->set_last_seq(seq);
  fresh->resume(alice.token, old_ws->session_id(), seq);
  auto resumed = fresh->next_op(0, "RESUMED", 5s);
  REQUIRE(resumed);
  CHECK((*resumed)["s"] == seq + 1);
  auto posted = n.post_message(alice, general, "to the new connection");
  REQUIRE(wait_message(*fresh, posted["id"].get<std::string>()));
  // The superseded connection is closed and gets no further dispatch.
  auto code = old_ws->wait_close(5s);
  CHECK(code);
  CHECK_FALSE(saw_dispatch(*old_ws, "MESSAGE_CREATE", "id", posted["id"].get<std::string>()));
  CHECK(fresh->seq_errors().empty());
}

TEST_CASE("rest_edits_and_deletes_arrive_as_message_update_and_message_delete_where_visible") {
  node n;
  auto alice = n.create_user("alice");
  auto bob = n.create_user("bob");
  auto guild = n.create_guild("guild", alice);
  auto general = n.create_channel(guild, "general");
  auto staff = n.create_channel(guild, "staff", true);
  n.add_member(guild, bob);
  auto alice_ws = connect(n, alice, 1);
  auto bob_ws = connect(n, bob, 1);
  testing::rest_client rest{n.gateway_port(), alice.token};

  auto secret = n.post_message(alice, staff, "v1");
  auto secret_id = secret["id"].get<std::string>();
  auto edit = rest.patch("/channels/" + staff + "/messages/" + secret_id, {{"content", "v2"}});
  CHECK(edit.status == 200);
  CHECK(edit.json().value("content", "") == "v2");
  CHECK(edit.json()["edited_timestamp"].is_string());
  CHECK(rest.del("/channels/" + staff + "/messages/" + secret_id).status == 204);

  auto open = n.post_message(alice, general, "v1");
  auto open_id = open["id"].get<std::string>();
  CHECK(rest.patch("/channels/" + general + "/messages/" + open_id, {{"content", "v2"}}).status ==
        200);
  CHECK(rest.del("/channels/" + general + "/messages/" + open_id).status == 204);

  for (auto* ws : {alice_ws.get(), bob_ws.get()}) {
    auto update = ws->next_op(0, "MESSAGE_UPDATE");
    REQUIRE(update);
    auto del = ws->next_op(0, "MESSAGE_DELETE");
    REQUIRE(del);
    if (ws == bob_ws.get()) {
      // bob's first update and delete are #general's: #staff's never reached him.
      CHECK((*update)["d"]["id"] == open_id);
      CHECK((*del)["d"]["id"] == open_id);
    } else {
      CHECK((*update)["d"]["id"] == secret_id);
      CHECK((*del)["d"]["id"] == secret_id);
      REQUIRE(ws->next_op(0, "MESSAGE_DELETE"));
    }
    CHECK((*update)["d"]["content"] == "v2");
    CHECK((*update)["d"]["edited_timestamp"].is_string());
    CHECK((*del)["d"]["channel_id"].is_string());
    CHECK((*del)["d"]["guild_id"] == guild);
    CHECK(ws->seq_errors().empty());
  }
  CHECK_FALSE(saw_dispatch(*bob_ws, "MESSAGE_CREATE", "channel_id", staff));
}
