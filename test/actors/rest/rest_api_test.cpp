// SPDX-License-Identifier: Apache-2.0
// The REST API v10 in process: a real http_server on port 0 with mount_routes, dispatch
// services on a SQLite store, tokens "token-<user id>" and sessions probing what is dispatched.
#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include <catch2/catch.hpp>

#include "actors/rest/rest_api.hpp"
#include "runtime/metrics/metrics.hpp"
#include "test/actors/dispatch/dispatch_fixture.hpp"
#include "test/actors/rest/rest_test_client.hpp"

namespace {

using namespace herald;
using namespace herald::dispatch_test;
using herald::rest_test::send;

constexpr uint64_t guild_id = 1000;
constexpr uint64_t owner = 1;
constexpr uint64_t alice = 2;
constexpr uint64_t bob = 3;
constexpr uint64_t stranger = 4;   // a user who is in no guild
constexpr uint64_t moderator = 5;  // holds MANAGE_MESSAGES and KICK_MEMBERS through a role
constexpr uint64_t deputy = 6;     // holds the moderator's role too: neither outranks the other
constexpr uint64_t general = 10;   // everyone may talk
constexpr uint64_t staff = 11;     // @everyone denied VIEW_CHANNEL; alice allowed
constexpr uint64_t announce = 12;  // @everyone denied SEND_MESSAGES
constexpr uint64_t mod_role = 50;

std::string token_of(uint64_t user) {
  return "Bot token-" + std::to_string(user);
}

std::optional<uint64_t> authenticate(std::string_view header) {
  if (header.rfind("Bot ", 0) == 0) {
    header.remove_prefix(4);
  }
  if (header.rfind("token-", 0) != 0) {
    return std::nullopt;
  }
  auto id = domain::parse_snowflake(header.substr(6));
  if (!id || *id == 0 || *id > deputy) {
    return std::nullopt;
  }
  return id;
}

domain::permission_overwrite overwrite(uint64_t id, domain::overwrite_type type, uint64_t allow,
                                       uint64_t deny) {
  domain::permission_overwrite ow;
  ow.id_ = id;
  ow.type_ = type;
  ow.allow_ = allow;
  ow.deny_ = deny;
  return ow;
}

/// One node with the REST API mounted on a fresh port.
struct rest_env {
  explicit rest_env(rest::rate_limit_options limits = {}) {
    guild_seed seed{guild_id, owner};
    seed.add_role(mod_role, permissions::manage_messages | permissions::kick_members)
        .add_member(alice)
        .add_member(bob)
        .add_member(moderator, {mod_role})
        .add_member(deputy, {mod_role})
        .add_channel(general)
        .add_channel(
            staff, {overwrite(guild_id, domain::overwrite_type::role, 0, permissions::view_channel),
                    overwrite(alice, domain::overwrite_type::member, permissions::view_channel, 0)})
        .add_channel(announce, {overwrite(guild_id, domain::overwrite_type::role, 0,
                                          permissions::send_messages)});
    seed.save(*env.storage);
    REQUIRE(env.storage->upsert_user(domain::user{stranger, "stranger", false}));
    ctx = std::make_shared<rest::rest_context>();
    ctx->svc = env.svc;
    ctx->authenticate = authenticate;
    ctx->gateway_url = "ws://127.0.0.1:9999";
    ctx->draining = &draining;
    ctx->rate_limit = limits;
    net::server_options opts;
    opts.name = "rest-test";
    server = std::make_unique<net::http_server>(opts);
    rest::mount_routes(*server, ctx);
    auto err = server->start();
    REQUIRE_FALSE(err);
    port = server->port();
  }
  ~rest_env() { server->stop(); }

  rest_test::reply post(uint64_t user, uint64_t channel, const std::string& body) {
    return send(port, "POST", "/api/v10/channels/" + std::to_string(channel) + "/messages",
                token_of(user), body);
  }

  dispatch_env env;
  std::atomic<bool> draining{false};
  std::shared_ptr<rest::rest_context> ctx;
  std::unique_ptr<net::http_server> server;
  uint16_t port = 0;
};

void require_json_error(const rest_test::reply& r, unsigned status, int code) {
  INFO(r.status << " " << r.body);
  REQUIRE(r.status == status);
  REQUIRE(r.header("Content-Type").rfind("application/json", 0) == 0);
  auto body = r.json();
  REQUIRE(body.at("code").get<int>() == code);
  REQUIRE(body.at("message").is_string());
}

/// The MESSAGE_CREATE shape docs/gateway.md promises (and the REST POST returns).
void require_message_shape(const json& m) {
  INFO(m.dump());
  for (const char* id : {"id", "channel_id", "guild_id"}) {
    REQUIRE(m.at(id).is_string());
  }
  REQUIRE(m.at("author").at("id").is_string());
  REQUIRE(m.at("author").at("discriminator") == "0");
  REQUIRE(m.at("content").is_string());
  REQUIRE(m.at("timestamp").is_string());
  REQUIRE(m.contains("edited_timestamp"));
  REQUIRE(m.at("tts").is_boolean());
  REQUIRE(m.at("mention_everyone").is_boolean());
  REQUIRE(m.at("pinned").is_boolean());
  REQUIRE(m.at("type") == 0);
  for (const char* arr : {"mentions", "mention_roles", "attachments", "embeds"}) {
    REQUIRE(m.at(arr).is_array());
  }
}

}  // namespace

TEST_CASE("requests_without_a_valid_token_get_401_with_discords_json_body") {
  rest_env r;
  for (const std::string& auth :
       {std::string{}, std::string{"Bot nonsense"}, std::string{"token-99"}}) {
    auto res = send(r.port, "GET", "/api/v10/users/@me", auth);
    require_json_error(res, 401, 0);
    REQUIRE(res.json().at("message") == "401: Unauthorized");
  }
  require_json_error(r.post(99, general, R"({"content":"hi"})"), 401, 0);
}

TEST_CASE("gateway_endpoints_tell_clients_where_to_connect") {
  rest_env r;
  auto open = send(r.port, "GET", "/api/v10/gateway");
  REQUIRE(open.status == 200);
  REQUIRE(open.json().at("url") == "ws://127.0.0.1:9999");

  auto bot = send(r.port, "GET", "/api/v10/gateway/bot", token_of(alice));
  REQUIRE(bot.status == 200);
  REQUIRE(bot.header("Content-Type") == "application/json");
  auto body = bot.json();
  REQUIRE(body.at("url") == "ws://127.0.0.1:9999");
  REQUIRE(body.at("shards") == 1);
  const auto& limit = body.at("session_start_limit");
  for (const char* k : {"total", "remaining", "reset_after", "max_concurrency"}) {
    REQUIRE(limit.at(k).is_number_integer());
  }
  // Without a gateway budget nothing is limited: the reported total is unlimited.
  CHECK(limit.at("total") == 2147483647);
  CHECK(limit.at("max_concurrency") == 1);
  // With one, the user's own budget is reported as is (the node wires the gateway's).
  r.ctx->identify_budget = [](uint64_t user) {
    return rest::session_start_limit{1000, user == alice ? 998u : 1000u, 5000, 16};
  };
  auto budget = send(r.port, "GET", "/api/v10/gateway/bot", token_of(alice)).json();
  CHECK(budget.at("session_start_limit") ==
        json{{"total", 1000}, {"remaining", 998}, {"reset_after", 5000}, {"max_concurrency", 16}});
  // discord.js asks for /api/v10; v9 clients are served the same shapes.
  REQUIRE(send(r.port, "GET", "/api/v9/gateway/bot", token_of(alice)).status == 200);
}

TEST_CASE("get_users_me_returns_the_tokens_user_object") {
  rest_env r;
  // A bare token is accepted as well as "Bot <token>".
  auto res = send(r.port, "GET", "/api/v10/users/@me", "token-2");
  REQUIRE(res.status == 200);
  auto me = res.json();
  REQUIRE(me.at("id") == "2");
  REQUIRE(me.at("username") == "user2");
  REQUIRE(me.at("discriminator") == "0");
  REQUIRE(me.at("global_name").is_null());
  REQUIRE(me.at("avatar").is_null());
  REQUIRE(me.at("bot") == false);
  REQUIRE(me.at("flags") == 0);

  auto guilds = send(r.port, "GET", "/api/v10/users/@me/guilds", token_of(alice)).json();
  REQUIRE(guilds.size() == 1);
  REQUIRE(guilds[0].at("id") == std::to_string(guild_id));
  REQUIRE(guilds[0].at("owner") == false);
}

TEST_CASE("posting_to_an_unknown_channel_is_404_unknown_channel") {
  rest_env r;
  require_json_error(r.post(alice, 777777, R"({"content":"hi"})"), 404, 10003);
  require_json_error(send(r.port, "GET", "/api/v10/channels/777777", token_of(alice)), 404, 10003);
  require_json_error(r.post(alice, 0, R"({"content":"hi"})"), 404, 10003);
  require_json_error(send(r.port, "POST", "/api/v10/channels/abc/messages", token_of(alice),
                          R"({"content":"hi"})"),
                     400, 50035);
}

TEST_CASE("posting_without_view_channel_or_send_messages_is_403_and_dispatches_nothing") {
  rest_env r;
  auto probe = open_subscribed(r.env.svc, session_for(owner, {guild_id}));
  require_json_error(r.post(bob, staff, R"({"content":"let me in"})"), 403, 50013);
  require_json_error(r.post(alice, announce, R"({"content":"not allowed"})"), 403, 50013);
  require_json_error(r.post(stranger, general, R"({"content":"who am I"})"), 403, 50001);
  // bob cannot even read the private channel.
  require_json_error(send(r.port, "GET", "/api/v10/channels/11", token_of(bob)), 403, 50001);
  REQUIRE(send(r.port, "GET", "/api/v10/channels/11", token_of(alice)).status == 200);
  // A later allowed post is the first message the owner's session sees.
  auto ok = r.post(alice, staff, R"({"content":"staff only"})");
  REQUIRE(ok.status == 200);
  REQUIRE(probe->drain_until(
      [](const std::vector<json>& f) { return count_type(f, "MESSAGE_CREATE") >= 1; }));
  REQUIRE(message_ids(probe->frames()).size() == 1);
  REQUIRE(std::to_string(message_ids(probe->frames())[0]) == ok.json().at("id"));
}

TEST_CASE("malformed_bodies_are_400_with_discords_codes") {
  rest_env r;
  require_json_error(r.post(alice, general, "{not json"), 400, 50109);
  require_json_error(r.post(alice, general, "[1,2]"), 400, 50109);
  require_json_error(r.post(alice, general, "{}"), 400, 50006);
  require_json_error(r.post(alice, general, R"({"content":""})"), 400, 50006);
  require_json_error(r.post(alice, general, R"({"content":12})"), 400, 50035);
  auto too_long = json{{"content", std::string(2001, 'x')}}.dump();
  auto res = r.post(alice, general, too_long);
  require_json_error(res, 400, 50035);
  REQUIRE(res.json().at("errors").contains("content"));
  // Exactly 2000 characters (multi-byte ones count once) is fine.
  std::string at_limit;
  for (int i = 0; i < 2000; ++i) {
    at_limit += "\xc3\xa9";  // é
  }
  REQUIRE(r.post(alice, general, json{{"content", at_limit}}.dump()).status == 200);
  // A NUL character (no store keeps one) is refused up front, not as a store error.
  auto nul = r.post(alice, general, R"({"content":"a\u0000b"})");
  require_json_error(nul, 400, 50035);
  REQUIRE(nul.json().at("errors").contains("content"));
}

TEST_CASE("fields_of_the_wrong_json_type_are_400_50035_naming_each_field") {
  rest_env r;
  auto probe = open_subscribed(r.env.svc, session_for(bob, {guild_id}, all_intents));
  auto res = r.post(alice, general, R"({"content":"hi","tts":"yes","nonce":[1],"embeds":{}})");
  require_json_error(res, 400, 50035);
  auto errors = res.json().at("errors");
  INFO(errors.dump());
  CHECK(errors.at("tts").at("_errors").at(0).at("code") == "BASE_TYPE_BOOLEAN");
  CHECK(errors.at("nonce").at("_errors").at(0).at("code") == "BASE_TYPE_CHOICES");
  CHECK(errors.at("embeds").at("_errors").at(0).at("code") == "LIST_TYPE_CONVERT");
  CHECK_FALSE(errors.contains("content"));
  require_json_error(r.post(alice, general, R"({"content":"hi","flags":"4"})"), 400, 50035);
  require_json_error(
      r.post(alice, general, json{{"content", "hi"}, {"nonce", std::string(26, 'n')}}.dump()), 400,
      50035);
  // Valid types, and null for an absent field, are accepted.
  auto ok =
      r.post(alice, general,
             R"({"content":"typed","tts":false,"nonce":12,"embeds":[],"allowed_mentions":null})");
  REQUIRE(ok.status == 200);
  CHECK(ok.json().at("nonce") == "12");
  auto target = "/api/v10/channels/10/messages/" + ok.json().at("id").get<std::string>();
  require_json_error(
      send(r.port, "PATCH", target, token_of(alice), R"({"content":"x","embeds":"no"})"), 400,
      50035);
  // Nothing refused was dispatched: the only MESSAGE_CREATE is the valid one.
  REQUIRE(probe->drain_until(
      [](const std::vector<json>& f) { return count_type(f, "MESSAGE_CREATE") >= 1; }));
  CHECK(message_ids(probe->frames()).size() == 1);
}

TEST_CASE("post_returns_the_message_object_and_dispatches_the_same_message") {
  rest_env r;
  auto alice_session = open_subscribed(r.env.svc, session_for(alice, {guild_id}));
  auto bob_session = open_subscribed(r.env.svc, session_for(bob, {guild_id}));
  auto res = r.post(alice, general, R"({"content":"hello <@3>","nonce":"n-1","tts":false})");
  INFO(res.body);
  REQUIRE(res.status == 200);
  REQUIRE(res.header("Content-Type") == "application/json");
  REQUIRE(res.has_header("X-RateLimit-Remaining"));
  auto msg = res.json();
  require_message_shape(msg);
  REQUIRE(msg.at("channel_id") == std::to_string(general));
  REQUIRE(msg.at("guild_id") == std::to_string(guild_id));
  REQUIRE(msg.at("author").at("id") == std::to_string(alice));
  REQUIRE(msg.at("content") == "hello <@3>");
  REQUIRE(msg.at("nonce") == "n-1");
  REQUIRE(msg.at("mentions").size() == 1);
  REQUIRE(msg.at("mentions")[0].at("id") == std::to_string(bob));
  auto id = std::stoull(msg.at("id").get<std::string>());
  // The id is a fresh snowflake: its timestamp is now-ish (after 2020).
  REQUIRE(domain::timestamp_ms(id) > 1577836800000);

  for (auto* probe : {alice_session.get(), bob_session.get()}) {
    REQUIRE(probe->drain_until(
        [](const std::vector<json>& f) { return count_type(f, "MESSAGE_CREATE") >= 1; }));
    const json* frame = nullptr;
    for (const auto& f : probe->frames()) {
      if (type_of(f) == "MESSAGE_CREATE") {
        frame = &f;
      }
    }
    REQUIRE(frame != nullptr);
    require_message_shape(frame->at("d"));
    REQUIRE(id_in(*frame) == id);
    REQUIRE(frame->at("d").at("content") == "hello <@3>");
  }
  auto recent = send(r.port, "GET", "/api/v10/channels/10/messages?limit=5", token_of(bob));
  REQUIRE(recent.status == 200);
  REQUIRE(recent.json().size() == 1);
  REQUIRE(recent.json()[0].at("id") == msg.at("id"));
  auto one =
      send(r.port, "GET", "/api/v10/channels/10/messages/" + std::to_string(id), token_of(bob));
  REQUIRE(one.status == 200);
  REQUIRE(one.json().at("content") == "hello <@3>");
  REQUIRE(herald::metrics::registry::global().value_of(
              "herald_rest_requests_total",
              {{"route", "POST /channels/{channel_id}/messages"}, {"status", "200"}}) >= 1);
}

TEST_CASE("patch_and_delete_dispatch_message_update_and_message_delete") {
  rest_env r;
  auto probe = open_subscribed(r.env.svc, session_for(bob, {guild_id}));
  auto created = r.post(alice, general, R"({"content":"first"})");
  REQUIRE(created.status == 200);
  auto id = created.json().at("id").get<std::string>();
  auto target = "/api/v10/channels/10/messages/" + id;

  require_json_error(send(r.port, "PATCH", target, token_of(bob), R"({"content":"mine"})"), 403,
                     50005);
  require_json_error(send(r.port, "PATCH", "/api/v10/channels/10/messages/123456", token_of(alice),
                          R"({"content":"x"})"),
                     404, 10008);
  auto edited = send(r.port, "PATCH", target, token_of(alice), R"({"content":"second"})");
  INFO(edited.body);
  REQUIRE(edited.status == 200);
  REQUIRE(edited.json().at("content") == "second");
  REQUIRE(edited.json().at("edited_timestamp").is_string());

  require_json_error(send(r.port, "DELETE", target, token_of(bob)), 403, 50013);
  auto deleted = send(r.port, "DELETE", target, token_of(alice));
  REQUIRE(deleted.status == 204);
  REQUIRE(deleted.body.empty());
  require_json_error(send(r.port, "DELETE", target, token_of(alice)), 404, 10008);

  REQUIRE(probe->drain_until(
      [](const std::vector<json>& f) { return count_type(f, "MESSAGE_DELETE") >= 1; }));
  std::vector<std::string> types;
  for (const auto& f : probe->frames()) {
    if (type_of(f).rfind("MESSAGE_", 0) == 0) {
      types.push_back(type_of(f));
      REQUIRE(f.at("d").at("id") == id);
    }
  }
  REQUIRE(types == std::vector<std::string>{"MESSAGE_CREATE", "MESSAGE_UPDATE", "MESSAGE_DELETE"});

  // A moderator (MANAGE_MESSAGES) may delete someone else's message.
  auto other = r.post(bob, general, R"({"content":"spam"})");
  REQUIRE(other.status == 200);
  auto other_target = "/api/v10/channels/10/messages/" + other.json().at("id").get<std::string>();
  REQUIRE(send(r.port, "DELETE", other_target, token_of(moderator)).status == 204);
}

TEST_CASE("a_user_over_the_rate_limit_gets_429_with_retry_after_and_x_ratelimit_headers") {
  rest::rate_limit_options limits;
  limits.burst = 3;
  limits.per_second = 0.5;
  rest_env r{limits};
  for (int i = 0; i < 3; ++i) {
    auto ok = send(r.port, "GET", "/api/v10/users/@me", token_of(alice));
    REQUIRE(ok.status == 200);
    REQUIRE(ok.header("X-RateLimit-Limit") == "3");
    REQUIRE(ok.header("X-RateLimit-Remaining") == std::to_string(2 - i));
  }
  auto limited = r.post(alice, general, R"({"content":"too fast"})");
  require_json_error(limited, 429, 0);
  REQUIRE(std::stoi(limited.header("Retry-After")) >= 1);
  REQUIRE(limited.json().at("retry_after").get<double>() > 0);
  // One bucket over every route: Discord's global limit, and it says so.
  REQUIRE(limited.json().at("global") == true);
  REQUIRE(limited.header("X-RateLimit-Global") == "true");
  REQUIRE(limited.header("X-RateLimit-Scope") == "global");
  REQUIRE(limited.header("X-RateLimit-Remaining") == "0");
  REQUIRE(std::stod(limited.header("X-RateLimit-Reset-After")) > 0);
  REQUIRE(std::stod(limited.header("X-RateLimit-Reset")) > 1.7e9);
  REQUIRE_FALSE(limited.header("X-RateLimit-Bucket").empty());
  // Buckets are per user: bob is unaffected.
  REQUIRE(send(r.port, "GET", "/api/v10/users/@me", token_of(bob)).status == 200);
}

TEST_CASE("while_draining_every_route_answers_503_with_retry_after") {
  rest_env r;
  r.draining = true;
  auto res = r.post(alice, general, R"({"content":"late"})");
  require_json_error(res, 503, 0);
  REQUIRE(res.header("Retry-After") == "5");
  require_json_error(send(r.port, "GET", "/api/v10/gateway/bot", token_of(alice)), 503, 0);
  r.draining = false;
  REQUIRE(r.post(alice, general, R"({"content":"back"})").status == 200);
}

TEST_CASE("post_typing_dispatches_typing_start_to_members_who_can_view_the_channel") {
  rest_env r;
  auto probe = open_subscribed(r.env.svc, session_for(owner, {guild_id}));
  require_json_error(send(r.port, "POST", "/api/v10/channels/11/typing", token_of(bob)), 403,
                     50013);
  require_json_error(send(r.port, "POST", "/api/v10/channels/10/typing", token_of(stranger)), 403,
                     50001);
  auto ok = send(r.port, "POST", "/api/v10/channels/10/typing", token_of(alice));
  REQUIRE(ok.status == 204);
  REQUIRE(probe->drain_until(
      [](const std::vector<json>& f) { return count_type(f, "TYPING_START") >= 1; }));
  REQUIRE(count_type(probe->frames(), "TYPING_START") == 1);
  for (const auto& f : probe->frames()) {
    if (type_of(f) == "TYPING_START") {
      REQUIRE(f.at("d").at("user_id") == std::to_string(alice));
      REQUIRE(f.at("d").at("channel_id") == std::to_string(general));
    }
  }
}

TEST_CASE("kicking_a_member_needs_kick_members_and_answers_discords_errors") {
  rest_env r;
  auto kick = [&](uint64_t actor, const std::string& guild, const std::string& user) {
    return send(r.port, "DELETE", "/api/v10/guilds/" + guild + "/members/" + user, token_of(actor));
  };
  const auto g = std::to_string(guild_id);
  require_json_error(kick(bob, g, std::to_string(alice)), 403, 50013);        // no KICK_MEMBERS
  require_json_error(kick(stranger, g, std::to_string(alice)), 403, 50001);   // not a member
  require_json_error(kick(moderator, g, std::to_string(owner)), 403, 50013);  // the owner
  require_json_error(kick(moderator, g, std::to_string(stranger)), 404, 10007);
  require_json_error(kick(bob, g, std::to_string(stranger)), 403, 50013);      // permission first
  require_json_error(kick(moderator, g, std::to_string(deputy)), 403, 50013);  // same rank
  require_json_error(kick(owner, "999999", std::to_string(alice)), 404, 10004);
  require_json_error(kick(owner, g, "not-an-id"), 400, 50035);
  // Nobody was removed by the refusals.
  auto state = r.env.storage->load_guild(guild_id);
  REQUIRE(state);
  CHECK(state.value().member_count() == 5);  // the owner, alice, bob, moderator, deputy
}

TEST_CASE("a_kicked_member_gets_guild_delete_and_nothing_more_while_others_see_the_removal") {
  rest_env r;
  auto alice_session = open_subscribed(r.env.svc, session_for(alice, {guild_id}));
  auto alice_quiet = open_subscribed(  // without GUILD_MEMBERS: only the GUILD_DELETE
      r.env.svc, session_for(alice, {guild_id}, all_intents & ~session::guild_members_intent));
  auto bob_session = open_subscribed(r.env.svc, session_for(bob, {guild_id}));
  const auto target = "/api/v10/guilds/" + std::to_string(guild_id) + "/members/";

  auto kicked = send(r.port, "DELETE", target + std::to_string(alice), token_of(moderator));
  INFO(kicked.body);
  REQUIRE(kicked.status == 204);
  REQUIRE(kicked.body.empty());
  require_json_error(send(r.port, "DELETE", target + std::to_string(alice), token_of(owner)), 404,
                     10007);
  // The owner may always kick; bob goes too, after alice.
  REQUIRE(send(r.port, "DELETE", target + std::to_string(bob), token_of(owner)).status == 204);
  require_json_error(r.post(alice, general, R"({"content":"still here?"})"), 403, 50001);
  auto after = r.post(owner, general, R"({"content":"after the kicks"})");
  REQUIRE(after.status == 200);

  auto removed_user = [](const json& f) {
    return f.at("d").at("user").at("id").get<std::string>();
  };
  REQUIRE(bob_session->drain_until(
      [](const std::vector<json>& f) { return count_type(f, "GUILD_DELETE") == 1; }));
  // bob saw alice leave, then left himself.
  std::vector<std::string> bob_types;
  for (size_t i = 2; i < bob_session->frames().size(); ++i) {
    bob_types.push_back(type_of(bob_session->frames()[i]));
  }
  CHECK(bob_types ==
        std::vector<std::string>{"GUILD_MEMBER_REMOVE", "GUILD_MEMBER_REMOVE", "GUILD_DELETE"});
  CHECK(removed_user(bob_session->frames()[2]) == std::to_string(alice));

  for (auto* probe : {alice_session.get(), alice_quiet.get()}) {
    REQUIRE(probe->drain_until(
        [](const std::vector<json>& f) { return count_type(f, "GUILD_DELETE") == 1; }));
  }
  // A witness that stayed: the message after the kicks is delivered, so anything of the guild
  // for alice would have been written before it.
  auto witness = open_subscribed(r.env.svc, session_for(owner, {guild_id}));
  REQUIRE(r.post(owner, general, R"({"content":"last"})").status == 200);
  REQUIRE(witness->drain_until(
      [](const std::vector<json>& f) { return count_type(f, "MESSAGE_CREATE") == 1; }));
  alice_session->drain();
  alice_quiet->drain();
  REQUIRE(alice_session->frames().size() == 4);
  CHECK(type_of(alice_session->frames()[2]) == "GUILD_MEMBER_REMOVE");
  CHECK(removed_user(alice_session->frames()[2]) == std::to_string(alice));
  const auto& gone = alice_session->frames()[3];
  CHECK(type_of(gone) == "GUILD_DELETE");
  CHECK(gone.at("d").at("id") == std::to_string(guild_id));
  CHECK_FALSE(gone.at("d").contains("unavailable"));  // removed, not an outage
  REQUIRE(alice_quiet->frames().size() == 3);
  CHECK(type_of(alice_quiet->frames()[2]) == "GUILD_DELETE");
  require_contiguous(alice_session->frames());
  require_contiguous(alice_quiet->frames());
  require_contiguous(bob_session->frames());

  // Persisted: a restarted guild loads the guild without them.
  auto state = r.env.storage->load_guild(guild_id);
  REQUIRE(state);
  CHECK(state.value().find_member(alice) == nullptr);
  CHECK(state.value().find_member(bob) == nullptr);
  CHECK(state.value().find_member(moderator) != nullptr);
}
