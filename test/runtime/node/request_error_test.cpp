// SPDX-License-Identifier: Apache-2.0
// The admin API's one error writer.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "runtime/node/request_error.hpp"

using namespace herald;

TEST_CASE("an_admin_error_body_is_error_and_code_escaped_as_json") {
  auto r = node::error_response({400, "bad_request", "name: \"a\\b\"\n is not \xff valid"});
  CHECK(r.status == 400);
  CHECK(r.content_type == "application/json");
  bool no_store = false;
  for (const auto& [name, value] : r.headers) {
    no_store = no_store || (name == "Cache-Control" && value == "no-store");
  }
  CHECK(no_store);
  auto body = nlohmann::json::parse(r.body, nullptr, false);
  REQUIRE(body.is_object());
  CHECK(body.size() == 2);
  CHECK(body.at("code") == "bad_request");
  CHECK(body.at("error").get<std::string>().rfind("name: \"a\\b\"\n is not ", 0) == 0);
}
