// SPDX-License-Identifier: Apache-2.0
// Control commands are dispatched live to connected gateway sessions, and SIGTERM drains the
// front door (op 7 Reconnect, close, REST 503 + Retry-After) before heraldd exits 0.
#include <string>

#include "ctl_fixture.hpp"
#include "test/support/gateway_client.hpp"

using namespace herald;
using namespace herald::ctl_test;

namespace {

/// GUILDS | GUILD_MEMBERS | GUILD_MESSAGES | MESSAGE_CONTENT.
constexpr uint32_t intents = 1 | 2 | 512 | 32768;

}  // namespace

TEST_CASE("control_commands_reach_connected_sessions_live") {
  node_fixture node;
  auto alice = node.ctl_json({"user", "create", "--name", "alice"});
  auto bob = node.ctl_json({"user", "create", "--name", "bob"});
  auto guild_id =
      id_of(node.ctl_json({"guild", "create", "--name", "live", "--owner", id_of(alice)}));

  testing::gateway_client alice_ws{node.gateway_port()};
  alice_ws.login(alice.value("token", ""), 1, intents);
  testing::gateway_client bob_ws{node.gateway_port()};
  bob_ws.login(bob.value("token", ""), 0, intents);

  // A guild created for bob reaches his open session.
  auto bobs_guild =
      id_of(node.ctl_json({"guild", "create", "--name", "bob's", "--owner", id_of(bob)}));
  auto created = bob_ws.next_op(0, "GUILD_CREATE");
  REQUIRE(created);
  CHECK((*created)["d"]["id"] == bobs_guild);

  node.ctl_json({"member", "add", "--guild", guild_id, "--user", id_of(bob)});
  auto joined = bob_ws.next_op(0, "GUILD_CREATE");
  REQUIRE(joined);
  CHECK((*joined)["d"]["id"] == guild_id);
  auto member_add = alice_ws.next_op(0, "GUILD_MEMBER_ADD");
  REQUIRE(member_add);
  CHECK((*member_add)["d"]["user"]["id"] == id_of(bob));

  auto channel_id =
      id_of(node.ctl_json({"channel", "create", "--guild", guild_id, "--name", "general"}));
  for (auto* ws : {&alice_ws, &bob_ws}) {
    auto c = ws->next_op(0, "CHANNEL_CREATE");
    REQUIRE(c);
    CHECK((*c)["d"]["id"] == channel_id);
  }
  node.ctl_json({"message", "send", "--channel", channel_id, "--as", id_of(alice), "--content",
                 "live hello"});
  auto message = bob_ws.next_op(0, "MESSAGE_CREATE");
  REQUIRE(message);
  CHECK((*message)["d"]["content"] == "live hello");
  CHECK(alice_ws.seq_errors().empty());
  CHECK(bob_ws.seq_errors().empty());

  // After a revoke, Identify with the old token is refused with 4004; the new one works.
  auto fresh = node.ctl_json({"token", "revoke", "--user", id_of(bob)});
  testing::gateway_client stale{node.gateway_port()};
  REQUIRE(stale.next_op(10));
  stale.identify(bob.value("token", ""), intents);
  CHECK(stale.wait_close(10s) == 4004);
  testing::gateway_client renewed{node.gateway_port()};
  renewed.login(fresh.value("token", ""), 2, intents);
}

TEST_CASE("sigterm_sends_op_7_to_every_session_answers_rest_with_503_and_exits_0") {
  node_fixture node;
  auto alice = node.ctl_json({"user", "create", "--name", "alice"});
  node.ctl_json({"guild", "create", "--name", "drain", "--owner", id_of(alice)});
  auto token = alice.value("token", "");
  testing::gateway_client ws{node.gateway_port()};
  ws.login(token, 1, intents);
  REQUIRE(node.rest_get("/api/v10/users/@me", token).status == 200);

  node.process().send_signal(SIGTERM);
  auto reconnect = ws.next_op(7, "", 10s);
  REQUIRE(reconnect);
  // The gateway closes its connections a moment after op 7; REST answers 503 meanwhile.
  auto during = node.rest_get("/api/v10/users/@me", token);
  CHECK(during.status == 503);
  CHECK(during.retry_after == "5");
  auto code = ws.wait_close(15s);
  REQUIRE(code);
  CHECK(*code == 4000);
  CHECK(node.process().wait_for(30s) == 0);
}
