// SPDX-License-Identifier: Apache-2.0
// SIGTERM drains the front door (op 7 before the close on every connection, REST 503 with
// Retry-After, exit 0); a token revoked through heraldctl cuts its open connections (4004)
// and is refused (4004, 401) while the fresh one works.
#include <signal.h>

#include <string>

#include "e2e_fixture.hpp"

using namespace herald;
using namespace herald::e2e;

TEST_CASE("sigterm_sends_op_7_reconnect_to_every_client_before_closing_it_and_heraldd_exits_0") {
  node n;
  auto alice = n.create_user("alice");
  auto bob = n.create_user("bob");
  auto guild = n.create_guild("guild", alice);
  n.add_member(guild, bob);
  auto alice_ws = connect(n, alice, 1);
  auto bob_ws = connect(n, bob, 1);
  testing::rest_client rest{n.gateway_port(), alice.token};
  REQUIRE(rest.get("/users/@me").status == 200);

  n.process().send_signal(SIGTERM);
  auto reconnect = alice_ws->next_op(7, "", 5s);
  REQUIRE(reconnect);
  CHECK((*reconnect)["d"].is_null());
  CHECK((*reconnect)["s"].is_null());
  CHECK((*reconnect)["t"].is_null());
  // Draining began before op 7 went out and lasts until the connections are gone (the
  // gateway waits drain_close_delay for clients to leave): REST answers 503 meanwhile.
  auto during = rest.get("/users/@me");
  INFO("REST while draining: " << during.status << " " << during.body << during.error);
  CHECK(during.status == 503);
  CHECK_FALSE(during.header("retry-after").empty());

  REQUIRE(bob_ws->next_op(7, "", 5s));
  for (auto* ws : {alice_ws.get(), bob_ws.get()}) {
    auto code = ws->wait_close(10s);
    REQUIRE(code);
    CHECK(*code != 1000);  // resumable: the clients are meant to resume elsewhere
    CHECK(ws->seq_errors().empty());
  }
  auto exit_code = n.process().wait_for(20s);
  INFO("heraldd stderr: " << n.process().err());
  CHECK(exit_code == 0);
}

TEST_CASE(
    "a_token_revoked_with_heraldctl_cuts_its_open_connections_with_4004_and_is_refused_while_the_"
    "new_one_works") {
  node n;
  auto alice = n.create_user("alice");
  n.create_guild("guild", alice);
  auto bob = n.create_user("bob");
  auto before = connect(n, alice, 1);
  CHECK(before->frames().size() >= 3);
  auto bystander = connect(n, bob, 0);

  auto r = n.ctl({"token", "revoke", "--user", alice.id, "--json"});
  INFO("heraldctl: " << r.out << r.err);
  REQUIRE(r.exit_code == 0);
  auto revoked = json::parse(r.out, nullptr, false);
  REQUIRE(revoked.is_object());
  CHECK(revoked["id"] == alice.id);
  REQUIRE(revoked["token"].is_string());
  auto fresh = revoked["token"].get<std::string>();
  CHECK(fresh != alice.token);

  // The open connection authenticated with the revoked token is cut, not resumable;
  // another user's connection is untouched (it still answers a heartbeat).
  CHECK(before->wait_close(5s) == 4004);
  bystander->heartbeat();
  CHECK(bystander->next_op(11, {}, 5s));

  testing::gateway_client old_ws{n.gateway_port()};
  REQUIRE(old_ws.next());
  old_ws.identify(alice.token);
  CHECK(old_ws.wait_close(5s) == 4004);
  for (const auto& f : old_ws.frames()) {
    CHECK(f["op"] != 0);
  }
  CHECK(testing::rest_client{n.gateway_port(), alice.token}.get("/users/@me").status == 401);

  testing::gateway_client new_ws{n.gateway_port()};
  auto ready = new_ws.login(fresh, 1);
  CHECK(ready["d"]["user"]["id"] == alice.id);
  auto me = testing::rest_client{n.gateway_port(), fresh}.get("/users/@me");
  CHECK(me.status == 200);
  CHECK(me.json().value("id", "") == alice.id);
}
