// SPDX-License-Identifier: Apache-2.0
// Hostile strings (names, content) must never break the frame: escaped
// control characters and quotes, UTF-8 kept, invalid UTF-8 replaced.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <random>

#include "actors/encoding/detail/json_writer.hpp"
#include "actors/encoding/encode.hpp"

using namespace herald;
using namespace herald::domain;
using nlohmann::json;

namespace {

std::string round_trip(const std::string& text) {
  std::string out;
  encoding::detail::append_json_string(out, text);
  return json::parse(out).get<std::string>();
}

std::string content_after_encoding(const std::string& content) {
  guild_state g(domain::guild{10, "g", 1});
  g.restore_member(member{1, {}, 0}, user{1, content, false});
  channel c;
  c.id_ = 20;
  g.restore_channel(c);
  message m;
  m.id_ = 30;
  m.channel_id_ = 20;
  m.guild_id_ = 10;
  m.author_id_ = 1;
  m.content_ = content;
  auto frame = json::parse("{\"op\":0,\"s\":1" + encoding::message_create_tails(g, m).full_);
  CHECK(frame["d"]["author"]["username"] == frame["d"]["content"]);
  return frame["d"]["content"].get<std::string>();
}

const std::string fffd = "\xEF\xBF\xBD";

}  // namespace

TEST_CASE("quotes_backslashes_and_control_characters_round_trip") {
  std::string hostile = "\"},\"t\":\"X\\\n\r\t\b\f";
  for (char c = 1; c < 0x20; ++c) {
    hostile.push_back(c);
  }
  hostile.push_back('\0');
  hostile += "\x7f end";
  CHECK(content_after_encoding(hostile) == hostile);
  std::string raw;
  encoding::detail::append_json_string(raw, hostile);
  for (char c : raw) {
    CHECK(static_cast<unsigned char>(c) >= 0x20);  // no raw control characters on the wire
  }
}

TEST_CASE("valid_utf8_and_emoji_are_kept_as_is") {
  const std::string text =
      "h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80 \xE2\x80\xA8 \xF4\x8F\xBF\xBF";
  CHECK(content_after_encoding(text) == text);
  std::string raw;
  encoding::detail::append_json_string(raw, text);
  CHECK(raw == "\"" + text + "\"");
}

TEST_CASE("invalid_utf8_bytes_are_replaced_by_u_fffd") {
  CHECK(round_trip("a\xFF"
                   "b") == "a" + fffd + "b");
  CHECK(round_trip("\xC0\xAF") == fffd + fffd);                        // overlong '/'
  CHECK(round_trip("\xED\xA0\x80") == fffd + fffd + fffd);             // surrogate U+D800
  CHECK(round_trip("\xF4\x90\x80\x80") == fffd + fffd + fffd + fffd);  // above U+10FFFF
  CHECK(round_trip("x\xE2\x82") == "x" + fffd + fffd);                 // truncated at the end
  CHECK(round_trip("\x80"
                   "abc") == fffd + "abc");  // lone continuation
  CHECK(round_trip("\xE2\x28\xA1") == fffd + "(" + fffd);
  CHECK(content_after_encoding("bad\xC3") == "bad" + fffd);
}

TEST_CASE("random_bytes_always_encode_to_valid_json") {
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> len(0, 40);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    const int n = len(rng);
    for (int i = 0; i < n; ++i) {
      text.push_back(static_cast<char>(byte(rng)));
    }
    std::string out;
    encoding::detail::append_json_string(out, text);
    INFO(out);
    json parsed;
    REQUIRE_NOTHROW(parsed = json::parse(out));
    REQUIRE(parsed.is_string());
    // Re-encoding the decoded (now valid) text is the identity.
    REQUIRE(round_trip(parsed.get<std::string>()) == parsed.get<std::string>());
  }
}

TEST_CASE("hostile_names_do_not_escape_their_field_in_guild_create") {
  const std::string name = "\"],\"owner_id\":\"0\",\"x\":[\"\\\n";
  guild_state g(domain::guild{10, name, 1});
  g.restore_member(member{1, {}, 0}, user{1, name, false});
  channel c;
  c.id_ = 20;
  c.name_ = name;
  g.restore_channel(c);
  role r;
  r.id_ = 40;
  r.name_ = name;
  g.restore_role(r);
  encoding::guild_create_encoder enc(g);
  auto d = json::parse("{\"op\":0,\"s\":1" +
                       enc.tail_for(g.members().at(1), enc.channels_json({20})))["d"];
  CHECK(d["name"] == name);
  CHECK(d["owner_id"] == "1");
  CHECK(d["channels"][0]["name"] == name);
  CHECK(d["members"][0]["user"]["username"] == name);
  CHECK(d.count("x") == 0);
}
