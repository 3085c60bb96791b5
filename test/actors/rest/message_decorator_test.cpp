// SPDX-License-Identifier: Apache-2.0
// Merging a decorator's members into an encoded message object: one key per name, always.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/rest/message_decorator.hpp"

using herald::rest::splice_members;

TEST_CASE("a_decorated_member_the_object_already_has_replaces_its_value") {
  std::string object = R"({"id":"1","pinned":false,"content":"a,b}","tts":false})";
  splice_members(object, R"("pinned":true)");
  CHECK(object == R"({"id":"1","pinned":true,"content":"a,b}","tts":false})");
  auto parsed = nlohmann::json::parse(object);
  CHECK(parsed["pinned"] == true);
}

TEST_CASE("new_members_are_appended_and_existing_ones_replaced_in_one_call") {
  std::string object = R"({"id":"1","embeds":[{"x":{"y":1}}],"pinned":false})";
  splice_members(object, R"("reactions":[{"count":2,"emoji":{"name":"\""}}],"pinned":true)");
  CHECK(
      object ==
      R"({"id":"1","embeds":[{"x":{"y":1}}],"pinned":true,"reactions":[{"count":2,"emoji":{"name":"\""}}]})");
}

TEST_CASE("members_replace_in_any_order_of_the_object") {
  std::string object = R"({"a":1,"b":"two","c":[3]})";
  splice_members(object, R"("c":[30,31],"a":10)");
  CHECK(object == R"({"a":10,"b":"two","c":[30,31]})");
}

TEST_CASE("splicing_into_an_empty_object_or_nothing_leaves_valid_json") {
  std::string empty = "{}";
  splice_members(empty, R"("pinned":true)");
  CHECK(empty == R"({"pinned":true})");
  std::string same = R"({"a":1})";
  splice_members(same, "");
  CHECK(same == R"({"a":1})");
}

TEST_CASE("a_key_inside_a_nested_object_is_not_a_top_level_member") {
  std::string object = R"({"referenced":{"pinned":false},"pinned":false})";
  splice_members(object, R"("pinned":true)");
  CHECK(object == R"({"referenced":{"pinned":false},"pinned":true})");
}
