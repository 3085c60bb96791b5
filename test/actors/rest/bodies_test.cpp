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

TEST_CASE("message create body: content, nonce and tts are read") {
  auto r = parse_message_create(R"({"content":"hi","nonce":"n1","tts":true})");
  REQUIRE(std::holds_alternative<message_create_body>(r));
  const auto& b = std::get<message_create_body>(r);
  CHECK(b.content == "hi");
  CHECK(b.nonce == "n1");
  CHECK(b.tts);

  auto numeric = parse_message_create(R"({"content":"x","nonce":-42})");
  CHECK(std::get<message_create_body>(numeric).nonce == "-42");
}

TEST_CASE("message create body: malformed JSON and non-objects are 50109") {
  for (const char* body : {"{", "[]", "\"content\"", "nul", "{\"content\":\"a\"} x", "\xff"}) {
    INFO(body);
    auto e = error_of(parse_message_create(body));
    CHECK(e.status == 400);
    CHECK(e.code == 50109);
  }
}

TEST_CASE("message create body: empty, null or missing content is 50006") {
  for (const char* body : {"", "{}", R"({"content":null})", R"({"content":""})"}) {
    INFO(body);
    CHECK(error_of(parse_message_create(body)).code == 50006);
  }
}

TEST_CASE("message create body: wrong type and over-long content are 50035 on content") {
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

TEST_CASE("message edit body: the same content rules") {
  auto ok = parse_message_edit(R"({"content":"edited"})");
  REQUIRE(std::holds_alternative<message_edit_body>(ok));
  CHECK(std::get<message_edit_body>(ok).content == "edited");
  auto bad = parse_message_edit("[1]");
  REQUIRE(std::holds_alternative<body_error>(bad));
  CHECK(std::get<body_error>(bad).code == 50109);
}
