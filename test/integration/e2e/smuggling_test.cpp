// SPDX-License-Identifier: Apache-2.0
// Request smuggling against heraldd's REST API (issue #10, item 2): a request whose framing is
// ambiguous (a Transfer-Encoding other than chunked) gets 400 and its connection is closed, so
// a complete request hidden in its body, carrying another user's token, is never run.
#include <chrono>
#include <string>

#include "e2e_fixture.hpp"
#include "test/support/raw_http.hpp"

using namespace herald;
using namespace herald::e2e;

// Regression: the body of "Transfer-Encoding: identity" was left unread and parsed as the next
// request, so the smuggled POST stored a message as bob, whose token alice should never use.
TEST_CASE("a_post_smuggled_in_a_body_with_an_unsupported_transfer_encoding_never_runs") {
  node n;
  auto alice = n.create_user("alice");
  auto bob = n.create_user("bob");
  auto guild = n.create_guild("guild", alice);
  auto general = n.create_channel(guild, "general");
  n.add_member(guild, bob);

  std::string inner_body = R"({"content":"smuggled as bob"})";
  std::string smuggled =
      "POST /api/v10/channels/" + general + "/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bot " +
      bob.token +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(inner_body.size()) +
      "\r\n\r\n" + inner_body;
  for (std::string te : {"identity", "gzip", "chunked, identity"}) {
    INFO("Transfer-Encoding: " << te);
    std::string outer = "POST /api/v10/channels/" + general +
                        "/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bot " + alice.token +
                        "\r\nContent-Type: application/json\r\nTransfer-Encoding: " + te +
                        "\r\n\r\n" + smuggled;
    // Everything read until the server closes (or 5 s of silence).
    auto got = testing::raw_exchange(n.gateway_port(), outer, std::chrono::seconds{5});
    CHECK(got.rfind("HTTP/1.1 400", 0) == 0);
    CHECK(got.find("HTTP/1.1 200") == std::string::npos);
  }
  auto listed =
      testing::rest_client{n.gateway_port(), alice.token}.get("/channels/" + general + "/messages");
  REQUIRE(listed.status == 200);
  CHECK(listed.body.find("smuggled as bob") == std::string::npos);
  // The node serves on: bob can still post on his own.
  n.post_message(bob, general, "bob himself");
}
