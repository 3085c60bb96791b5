// SPDX-License-Identifier: Apache-2.0
// The REST body parsers without a server: every refusal has Discord's status and code.
#include <catch2/catch.hpp>

#include "actors/rest/bodies.hpp"

using namespace herald::rest;

namespace {

/// A copy: callers pass the parser's temporary result.
body_error error_of(const std::variant<message_create_body, body_error>& r) {
  REQUIRE(std::holds_alternative<body_error>(r));
  return std::get<body_error>(r);
}

}  // namespace

TEST_CASE("message_create_body_content_nonce_and_tts_are_read") {
  auto r = parse_message_create(R"({"content":"hi","nonce":"n1","tts":true})");
  REQUIRE(std::holds_alternative<message_create_body>(r));
  const auto& b = std::get<message_create_body>(r);
  CHECK(b.content == "hi");
  CHECK(b.nonce == "n1");
  CHECK(b.tts);

  auto numeric = parse_message_create(R"({"content":"x","nonce":-42})");
  CHECK(std::get<message_create_body>(numeric).nonce == "-42");
}

TEST_CASE("message_create_body_malformed_json_and_non_objects_are_50109") {
  for (const char* body : {"{", "[]", "\"content\"", "nul", "{\"content\":\"a\"} x", "\xff"}) {
    INFO(body);
    auto e = error_of(parse_message_create(body));
    CHECK(e.status == 400);
    CHECK(e.code == 50109);
  }
}

TEST_CASE("message_create_body_empty_null_or_missing_content_is_50006") {
  for (const char* body : {"", "{}", R"({"content":null})", R"({"content":""})"}) {
    INFO(body);
    CHECK(error_of(parse_message_create(body)).code == 50006);
  }
}

TEST_CASE("message_create_body_wrong_type_and_over_long_content_are_50035_on_content") {
  auto wrong = error_of(parse_message_create(R"({"content":5})"));
  CHECK(wrong.code == 50035);
  REQUIRE(wrong.errors);
  CHECK(wrong.errors->contains("content"));

  // 2000 characters pass, counted in code points (é is two bytes).
  std::string ok = R"({"content":")";
  for (int i = 0; i < 2000; ++i) {
    ok += "\xc3\xa9";
  }
  CHECK(std::holds_alternative<message_create_body>(parse_message_create(ok + "\"}")));
  CHECK(error_of(parse_message_create(ok + "e\"}")).code == 50035);
}

TEST_CASE("message_edit_body_the_same_content_rules") {
  auto ok = parse_message_edit(R"({"content":"edited"})");
  REQUIRE(std::holds_alternative<message_edit_body>(ok));
  CHECK(std::get<message_edit_body>(ok).content == "edited");
  auto bad = parse_message_edit("[1]");
  REQUIRE(std::holds_alternative<body_error>(bad));
  CHECK(std::get<body_error>(bad).code == 50109);
}

TEST_CASE("message_bodies_fields_of_the_wrong_json_type_are_one_50035_naming_each_field") {
  auto e = error_of(parse_message_create(R"({"content":"hi","tts":"yes","embeds":{}})"));
  CHECK(e.code == 50035);
  REQUIRE(e.errors);
  CHECK(e.errors->at("tts").at("_errors").at(0).at("code") == "BASE_TYPE_BOOLEAN");
  CHECK(e.errors->at("embeds").at("_errors").at(0).at("code") == "LIST_TYPE_CONVERT");
  CHECK(std::holds_alternative<message_create_body>(
      parse_message_create(R"({"content":"hi","tts":null,"nonce":7,"embeds":[]})")));
  auto edit = parse_message_edit(R"({"content":"x","flags":"1"})");
  REQUIRE(std::holds_alternative<body_error>(edit));
  CHECK(std::get<body_error>(edit).code == 50035);
}

TEST_CASE("message_content_with_a_nul_character_is_50035_on_content_for_create_and_edit") {
  // JSON can carry U+0000; no store keeps it, so the body is refused before the guild sees it.
  auto created = error_of(parse_message_create(R"({"content":"a\u0000b"})"));
  CHECK(created.status == 400);
  CHECK(created.code == 50035);
  REQUIRE(created.errors);
  CHECK((*created.errors)["content"]["_errors"][0]["code"] == "BASE_TYPE_BAD_CHARACTERS");

  auto edited = parse_message_edit(R"({"content":"\u0000"})");
  REQUIRE(std::holds_alternative<body_error>(edited));
  CHECK(std::get<body_error>(edited).code == 50035);
}
