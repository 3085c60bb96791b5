// SPDX-License-Identifier: Apache-2.0
// Heartbeats against a real heraldd with a short configured interval: Hello announces it,
// a silent client is asked for a heartbeat with op 1, then closed with 4009, and the session
// stays resumable.
#include <string>

#include "e2e_fixture.hpp"

using namespace herald;
using namespace herald::e2e;

TEST_CASE("a_silent_client_is_asked_for_a_heartbeat_then_closed_with_4009_and_may_resume") {
  // The grace after the interval is the gateway's fixed 10 s: this case takes about 10 s.
  node n{"heartbeat_interval_ms = 200"};
  auto alice = n.create_user("alice");
  auto guild = n.create_guild("guild", alice);
  auto general = n.create_channel(guild, "general");

  testing::gateway_client ws{n.gateway_port()};
  auto hello = ws.next();
  REQUIRE(hello);
  CHECK((*hello)["d"]["heartbeat_interval"] == 200);
  ws.identify(alice.token);
  REQUIRE(ws.next_op(0, "READY"));
  REQUIRE(ws.next_op(0, "GUILD_CREATE"));
  ws.heartbeat();
  auto ack = ws.next_op(11, "", 5s);
  REQUIRE(ack);
  CHECK((*ack)["d"].is_null());
  auto session_id = ws.session_id();

  // Silence: op 1 first (interval + grace/2), then 4009 (interval + grace).
  auto asked = ws.next_op(1, "", 9s);
  REQUIRE(asked);
  CHECK((*asked)["s"].is_null());
  auto code = ws.wait_close(9s);
  REQUIRE(code);
  CHECK(*code == 4009);

  // 4009 is resumable: a message posted meanwhile is replayed.
  auto seq = ws.last_seq();
  auto posted = n.post_message(alice, general, "while timed out");
  testing::gateway_client again{n.gateway_port()};
  REQUIRE(again.next());
  again.set_last_seq(seq);
  again.resume(alice.token, session_id, seq);
  auto replayed = again.next_op(0, "MESSAGE_CREATE", 5s);
  REQUIRE(replayed);
  CHECK((*replayed)["d"]["id"] == posted["id"]);
  CHECK((*replayed)["s"] == seq + 1);
  CHECK(again.next_op(0, "RESUMED", 5s));
  CHECK(again.seq_errors().empty());
}
