// SPDX-License-Identifier: Apache-2.0
// Every encoded tail, spliced behind `{"op":0,"s":1` as the session does, must
// be one JSON frame whose `d` has Discord's shape (docs/gateway.md).
#include "actors/encoding/encode.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/domain/permission_bits.hpp"

using namespace herald;
using namespace herald::domain;
using nlohmann::json;

namespace {

constexpr snowflake gid = 81064394934304768;
constexpr snowflake owner = 1001;
constexpr snowflake alice = 1002;
constexpr snowflake bot = 1003;
constexpr snowflake staff = 2001;
constexpr snowflake lobby = 3001;
constexpr snowflake secret = 3002;
constexpr std::int64_t joined = 1764286570123;  // 2025-11-27T23:36:10.123Z

guild_state make_guild() {
  guild_state g(domain::guild{gid, "The \"Guild\"", owner});
  g.restore_role(role{staff, "staff", 5, permissions::manage_messages | (std::uint64_t{1} << 50),
                      0xff00ff, true, true, false});
  g.restore_member(member{owner, {}, joined}, user{owner, "owner", false});
  g.restore_member(member{alice, {staff}, joined + 1000}, user{alice, "alice", false});
  g.restore_member(member{bot, {}, joined + 2000}, user{bot, "robot", true});
  channel c;
  c.id_ = lobby;
  c.guild_id_ = gid;
  c.name_ = "lobby";
  c.position_ = 1;
  g.restore_channel(c);
  c.id_ = secret;
  c.name_ = "secret";
  c.type_ = 2;
  c.overwrites_ = {{gid, overwrite_type::role, 0, permissions::view_channel},
                   {alice, overwrite_type::member, permissions::view_channel, 0}};
  g.restore_channel(c);
  return g;
}

message make_message() {
  message m;
  m.id_ = 5001;
  m.channel_id_ = lobby;
  m.guild_id_ = gid;
  m.author_id_ = alice;
  m.content_ = "hello <@1003>";
  m.created_at_ = joined + 5000;
  m.mentions_ = {bot, 999999};  // 999999 is not a member: left out
  m.mention_roles_ = {staff};
  return m;
}

json frame_of(const std::string& tail) {
  REQUIRE(tail.front() == ',');
  REQUIRE(tail.back() == '}');
  json j = json::parse("{\"op\":0,\"s\":1" + tail);
  REQUIRE(j["op"] == 0);
  REQUIRE(j["s"] == 1);
  REQUIRE(j["t"].is_string());
  REQUIRE(j["d"].is_object());
  return j;
}

void check_user(const json& u, snowflake id, const std::string& name, bool is_bot) {
  CHECK(u["id"] == std::to_string(id));
  CHECK(u["username"] == name);
  CHECK(u["discriminator"] == "0");
  CHECK(u["global_name"].is_null());
  CHECK(u["avatar"].is_null());
  CHECK(u["public_flags"] == 0);
  if (is_bot) {
    CHECK(u["bot"] == true);
  } else {
    CHECK(u.count("bot") == 0);
  }
}

void check_member(const json& m, const std::vector<std::string>& roles, std::int64_t joined_ms) {
  CHECK(m["roles"] == json(roles));
  CHECK(m["joined_at"] == format_iso8601(joined_ms));
  CHECK(m["nick"].is_null());
  CHECK(m["deaf"] == false);
  CHECK(m["mute"] == false);
  CHECK(m["flags"] == 0);
  CHECK(m["pending"] == false);
  CHECK(m["communication_disabled_until"].is_null());
  CHECK(m["avatar"].is_null());
  CHECK(m["premium_since"].is_null());
}

void check_role(const json& r) {
  for (const char* key : {"id", "name", "color", "colors", "hoist", "position", "permissions",
                          "managed", "mentionable", "flags", "icon", "unicode_emoji"}) {
    INFO(key);
    CHECK(r.count(key) == 1);
  }
  CHECK(r["id"].is_string());
  CHECK(r["permissions"].is_string());
  CHECK(r["colors"]["primary_color"] == r["color"]);
  CHECK(r["colors"]["secondary_color"].is_null());
  CHECK(r["colors"]["tertiary_color"].is_null());
}

void check_channel(const json& c) {
  for (const char* key : {"id", "type", "name", "position", "permission_overwrites", "parent_id",
                          "nsfw", "topic", "last_message_id", "rate_limit_per_user", "flags"}) {
    INFO(key);
    CHECK(c.count(key) == 1);
  }
  CHECK(c["id"].is_string());
  CHECK(c["guild_id"] == std::to_string(gid));
  REQUIRE(c["permission_overwrites"].is_array());
  for (const auto& ow : c["permission_overwrites"]) {
    CHECK(ow["id"].is_string());
    CHECK(ow["type"].is_number_integer());
    CHECK(ow["allow"].is_string());
    CHECK(ow["deny"].is_string());
  }
}

}  // namespace

TEST_CASE("message_create_has_discord_shape_with_string_ids_and_arrays") {
  auto g = make_guild();
  auto tails = encoding::message_create_tails(g, make_message());
  auto j = frame_of(tails.full_);
  CHECK(j["t"] == "MESSAGE_CREATE");
  const auto& d = j["d"];
  CHECK(d["id"] == "5001");
  CHECK(d["channel_id"] == std::to_string(lobby));
  CHECK(d["guild_id"] == std::to_string(gid));
  check_user(d["author"], alice, "alice", false);
  check_member(d["member"], {std::to_string(staff)}, joined + 1000);
  CHECK(d["member"].count("user") == 0);
  CHECK(d["content"] == "hello <@1003>");
  CHECK(d["timestamp"] == "2025-11-27T23:36:15.123000+00:00");
  CHECK(d["edited_timestamp"].is_null());
  CHECK(d["tts"] == false);
  CHECK(d["mention_everyone"] == false);
  REQUIRE(d["mentions"].size() == 1);
  check_user(d["mentions"][0], bot, "robot", true);
  CHECK(d["mentions"][0]["member"]["joined_at"] == format_iso8601(joined + 2000));
  CHECK(d["mention_roles"] == json({std::to_string(staff)}));
  for (const char* key : {"attachments", "embeds", "components"}) {
    CHECK(d[key] == json::array());
  }
  CHECK(d["pinned"] == false);
  CHECK(d["type"] == 0);
  CHECK(d["flags"] == 0);
  CHECK(d.count("nonce") == 0);
}

TEST_CASE("redacted_message_blanks_content_but_keeps_the_rest") {
  auto g = make_guild();
  auto tails = encoding::message_create_tails(g, make_message());
  auto full = frame_of(tails.full_)["d"];
  auto redacted = frame_of(tails.redacted())["d"];
  CHECK(redacted["content"] == "");
  CHECK(redacted["embeds"] == json::array());
  CHECK(redacted["attachments"] == json::array());
  CHECK(redacted["components"] == json::array());
  full.erase("content");
  redacted.erase("content");
  CHECK(full == redacted);
}

TEST_CASE("the_redacted_tail_made_from_the_content_span_is_the_redacted_encoding_byte_for_byte") {
  auto g = make_guild();
  for (const char* content :
       {"hello", "", "quote \" back\\slash \n \xc3\xa9 \x01", "\"content\":\"x\""}) {
    INFO(content);
    auto m = make_message();
    m.content_ = content;
    auto tails = encoding::message_create_tails(g, m, std::string(3, 'z'));  // a used buffer
    CHECK(json::parse(tails.full_.substr(tails.content_begin_,
                                         tails.content_end_ - tails.content_begin_)) == m.content_);
    const std::string expected =
        ",\"t\":\"MESSAGE_CREATE\",\"d\":" + encoding::encode_message(g, m, true) + "}";
    CHECK(tails.redacted() == expected);
    CHECK(tails.full_ == ",\"t\":\"MESSAGE_CREATE\",\"d\":" + encoding::encode_message(g, m) + "}");
  }
}

TEST_CASE("message_update_carries_the_edited_message") {
  auto g = make_guild();
  auto m = make_message();
  m.edited_at_ = joined + 9000;
  auto tails = encoding::message_update_tails(g, m);
  auto j = frame_of(tails.full_);
  CHECK(j["t"] == "MESSAGE_UPDATE");
  CHECK(j["d"]["edited_timestamp"] == format_iso8601(joined + 9000));
  CHECK(frame_of(tails.redacted())["d"]["content"] == "");
}

TEST_CASE("message_by_an_author_who_left_shows_a_deleted_user_without_member") {
  auto g = make_guild();
  auto m = make_message();
  m.author_id_ = 424242;
  auto d = frame_of(encoding::message_create_tails(g, m).full_)["d"];
  CHECK(d["author"]["id"] == "424242");
  CHECK(d["author"]["username"] == "Deleted User");
  CHECK(d.count("member") == 0);
}

TEST_CASE("message_without_a_creation_time_shows_the_time_of_its_id") {
  auto g = make_guild();
  auto m = make_message();
  m.created_at_ = 0;
  m.id_ = snowflake_at(joined);
  auto d = frame_of(encoding::message_create_tails(g, m).full_)["d"];
  CHECK(d["timestamp"] == format_iso8601(joined));
}

TEST_CASE("message_delete_and_typing_start_have_their_fields") {
  auto g = make_guild();
  auto del = frame_of(encoding::message_delete_tail(5001, lobby, gid));
  CHECK(del["t"] == "MESSAGE_DELETE");
  CHECK(del["d"] == json({{"id", "5001"},
                          {"channel_id", std::to_string(lobby)},
                          {"guild_id", std::to_string(gid)}}));
  auto typing = frame_of(encoding::typing_start_tail(g, lobby, alice, 1764286575));
  CHECK(typing["t"] == "TYPING_START");
  CHECK(typing["d"]["channel_id"] == std::to_string(lobby));
  CHECK(typing["d"]["guild_id"] == std::to_string(gid));
  CHECK(typing["d"]["user_id"] == std::to_string(alice));
  CHECK(typing["d"]["timestamp"] == 1764286575);
  check_user(typing["d"]["member"]["user"], alice, "alice", false);
  check_member(typing["d"]["member"], {std::to_string(staff)}, joined + 1000);
}

TEST_CASE("member_events_carry_guild_id_user_and_member_fields") {
  auto g = make_guild();
  const auto& entry = g.members().at(alice);
  for (auto [tail, name] :
       {std::pair{encoding::guild_member_add_tail(gid, entry), "GUILD_MEMBER_ADD"},
        std::pair{encoding::guild_member_update_tail(gid, entry), "GUILD_MEMBER_UPDATE"}}) {
    auto j = frame_of(tail);
    CHECK(j["t"] == name);
    CHECK(j["d"]["guild_id"] == std::to_string(gid));
    check_user(j["d"]["user"], alice, "alice", false);
    check_member(j["d"], {std::to_string(staff)}, joined + 1000);
  }
  auto removed = frame_of(encoding::guild_member_remove_tail(gid, entry.user_));
  CHECK(removed["t"] == "GUILD_MEMBER_REMOVE");
  CHECK(removed["d"]["guild_id"] == std::to_string(gid));
  check_user(removed["d"]["user"], alice, "alice", false);
}

TEST_CASE("channel_events_carry_the_channel_object_with_string_overwrites") {
  auto g = make_guild();
  const auto& ch = *g.find_channel(secret);
  for (auto [tail, name] : {std::pair{encoding::channel_create_tail(ch), "CHANNEL_CREATE"},
                            std::pair{encoding::channel_update_tail(ch), "CHANNEL_UPDATE"},
                            std::pair{encoding::channel_delete_tail(ch), "CHANNEL_DELETE"}}) {
    auto j = frame_of(tail);
    CHECK(j["t"] == name);
    check_channel(j["d"]);
    CHECK(j["d"]["type"] == 2);
    CHECK(j["d"]["bitrate"].is_number());  // voice channels carry their voice fields
    const auto& ows = j["d"]["permission_overwrites"];
    REQUIRE(ows.size() == 2);
    CHECK(ows[0]["deny"] == std::to_string(permissions::view_channel));
    CHECK(ows[1]["type"] == 1);
    CHECK(ows[1]["allow"] == "1024");
  }
}

TEST_CASE("role_events_and_guild_update_have_their_fields") {
  auto g = make_guild();
  const auto& r = *g.find_role(staff);
  auto created = frame_of(encoding::guild_role_create_tail(gid, r));
  CHECK(created["t"] == "GUILD_ROLE_CREATE");
  CHECK(created["d"]["guild_id"] == std::to_string(gid));
  check_role(created["d"]["role"]);
  CHECK(created["d"]["role"]["permissions"] ==
        std::to_string(permissions::manage_messages | (std::uint64_t{1} << 50)));
  CHECK(created["d"]["role"]["color"] == 0xff00ff);
  CHECK(created["d"]["role"]["hoist"] == true);
  CHECK(frame_of(encoding::guild_role_update_tail(gid, r))["t"] == "GUILD_ROLE_UPDATE");
  auto deleted = frame_of(encoding::guild_role_delete_tail(gid, staff));
  CHECK(deleted["d"] ==
        json({{"guild_id", std::to_string(gid)}, {"role_id", std::to_string(staff)}}));
  auto updated = frame_of(encoding::guild_update_tail(g));
  CHECK(updated["t"] == "GUILD_UPDATE");
  CHECK(updated["d"]["id"] == std::to_string(gid));
  CHECK(updated["d"]["name"] == "The \"Guild\"");
  CHECK(updated["d"]["owner_id"] == std::to_string(owner));
  CHECK(updated["d"]["roles"].size() == 2);
  CHECK(updated["d"]["emojis"] == json::array());
  CHECK(updated["d"]["features"] == json::array());
  CHECK(updated["d"].count("members") == 0);
  CHECK(updated["d"].count("channels") == 0);
}

TEST_CASE("guild_create_of_a_small_guild_lists_every_member_and_the_class_channels") {
  auto g = make_guild();
  encoding::guild_create_encoder enc(g);
  CHECK_FALSE(enc.large());
  const std::string channels = enc.channels_json({lobby});
  auto j = frame_of(enc.tail_for(g.members().at(alice), channels));
  CHECK(j["t"] == "GUILD_CREATE");
  const auto& d = j["d"];
  CHECK(d["id"] == std::to_string(gid));
  CHECK(d["name"] == "The \"Guild\"");
  CHECK(d["unavailable"] == false);
  CHECK(d["owner_id"] == std::to_string(owner));
  CHECK(d["member_count"] == 3);
  CHECK(d["large"] == false);
  CHECK(d["joined_at"] == format_iso8601(joined + 1000));
  REQUIRE(d["channels"].size() == 1);
  check_channel(d["channels"][0]);
  CHECK(d["channels"][0]["id"] == std::to_string(lobby));
  REQUIRE(d["roles"].size() == 2);
  for (const auto& r : d["roles"]) {
    check_role(r);
  }
  REQUIRE(d["members"].size() == 3);
  for (const auto& m : d["members"]) {
    CHECK(m["user"]["id"].is_string());
    CHECK(m["roles"].is_array());
  }
  for (const char* key : {"emojis", "features", "stickers", "threads", "presences", "voice_states",
                          "stage_instances", "guild_scheduled_events", "soundboard_sounds"}) {
    INFO(key);
    CHECK(d[key] == json::array());
  }
  for (const char* key : {"icon", "splash", "system_channel_id", "afk_channel_id", "description",
                          "banner", "vanity_url_code", "application_id"}) {
    INFO(key);
    CHECK(d[key].is_null());
  }
  CHECK(d["afk_timeout"] == 300);
  CHECK(d["preferred_locale"] == "en-US");
  CHECK(d["premium_tier"] == 0);
  CHECK(d["lazy"] == true);
  CHECK(d["max_members"].is_number_integer());
}

TEST_CASE("guild_create_of_a_large_guild_lists_only_the_receiver_and_the_owner") {
  auto g = make_guild();
  encoding::guild_create_encoder enc(g, 3);
  CHECK(enc.large());
  auto d = frame_of(enc.tail_for(g.members().at(bot), enc.channels_json({lobby, secret})))["d"];
  CHECK(d["large"] == true);
  CHECK(d["member_count"] == 3);
  CHECK(d["channels"].size() == 2);
  REQUIRE(d["members"].size() == 2);
  CHECK(d["members"][0]["user"]["id"] == std::to_string(bot));
  CHECK(d["members"][1]["user"]["id"] == std::to_string(owner));
  auto own = frame_of(enc.tail_for(g.members().at(owner), ""))["d"];
  CHECK(own["members"].size() == 1);
  CHECK(own["channels"] == json::array());
}

TEST_CASE("ready_has_every_field_clients_wait_for") {
  encoding::ready_info info;
  info.user_ = user{bot, "robot", true};
  info.guild_ids_ = {gid, 42};
  info.session_id_ = "abc";
  info.resume_gateway_url_ = "ws://127.0.0.1:8080";
  info.application_id_ = bot;
  auto d = frame_of(encoding::ready_tail(info))["d"];
  CHECK(d["v"] == 10);
  check_user(d["user"], bot, "robot", true);
  CHECK(d["guilds"] == json({{{"id", std::to_string(gid)}, {"unavailable", true}},
                             {{"id", "42"}, {"unavailable", true}}}));
  CHECK(d["private_channels"] == json::array());
  CHECK(d["session_id"] == "abc");
  CHECK(d["resume_gateway_url"] == "ws://127.0.0.1:8080");
  CHECK(d["application"] == json({{"id", std::to_string(bot)}, {"flags", 0}}));
  CHECK(d.count("shard") == 0);
  CHECK(d["session_type"] == "normal");
  CHECK(d["user_settings"] == json::object());
  CHECK(d["auth"] == json::object());
  for (const char* key :
       {"relationships", "presences", "guild_join_requests", "geo_ordered_rtc_regions"}) {
    CHECK(d[key] == json::array());
  }
  info.shard_ = std::array<std::uint32_t, 2>{1, 4};
  CHECK(frame_of(encoding::ready_tail(info))["d"]["shard"] == json({1, 4}));
}

TEST_CASE("control_frames_have_null_s_and_t_and_typed_d") {
  auto hello = json::parse(encoding::hello_frame(41250));
  CHECK(hello ==
        json({{"op", 10}, {"d", {{"heartbeat_interval", 41250}}}, {"s", nullptr}, {"t", nullptr}}));
  CHECK(json::parse(encoding::heartbeat_ack_frame()) ==
        json({{"op", 11}, {"d", nullptr}, {"s", nullptr}, {"t", nullptr}}));
  CHECK(json::parse(encoding::heartbeat_request_frame())["op"] == 1);
  CHECK(json::parse(encoding::reconnect_frame())["op"] == 7);
  auto invalid = json::parse(encoding::invalid_session_frame(false));
  CHECK(invalid["op"] == 9);
  CHECK(invalid["d"].is_boolean());
  CHECK(invalid["d"] == false);
  CHECK(json::parse(encoding::invalid_session_frame(true))["d"] == true);
  auto resumed = frame_of(encoding::resumed_tail());
  CHECK(resumed["t"] == "RESUMED");
}
