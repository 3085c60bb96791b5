// SPDX-License-Identifier: Apache-2.0
// The gateway over real loopback sockets: a Beast client against http_server + gateway_server
// + dispatch services on SQLite. Login, dispatch, every close code, resume with missed events,
// drain, sharding and zlib-stream.

#include "runtime/metrics/metrics.hpp"
#include "test/actors/gateway/gateway_fixture.hpp"

namespace {

using namespace herald;
using namespace herald::gateway_test;
using json = nlohmann::json;

void require_gapless(const gateway_client& c) {
  INFO("first seq error: " << (c.seq_errors().empty() ? "" : c.seq_errors().front()));
  REQUIRE(c.seq_errors().empty());
}

/// Connects, reads Hello, sends `frame`, and returns the close code.
std::optional<uint16_t> close_code_after(gateway_env& g, const json& frame) {
  auto c = g.client();
  REQUIRE(c->next_op(10));
  c->send(frame);
  return c->wait_close();
}

}  // namespace

TEST_CASE("a client logs in: Hello, READY with s 1, a GUILD_CREATE per guild, heartbeat ACK") {
  gateway_env g;
  auto c = g.client();
  auto hello = c->next();
  REQUIRE(hello);
  CHECK((*hello)["op"] == 10);
  CHECK((*hello)["d"]["heartbeat_interval"] == 41250);
  c->identify("Bot " + alice_token);
  auto ready = c->next_op(0, "READY");
  REQUIRE(ready);
  CHECK((*ready)["s"] == 1);
  CHECK((*ready)["d"]["user"]["id"] == std::to_string(alice));
  CHECK((*ready)["d"]["guilds"].size() == 2);
  CHECK((*ready)["d"]["session_id"].is_string());
  CHECK((*ready)["d"]["resume_gateway_url"] == "ws://127.0.0.1:1");
  REQUIRE(c->next_op(0, "GUILD_CREATE"));
  REQUIRE(c->next_op(0, "GUILD_CREATE"));
  c->heartbeat();
  auto ack = c->next_op(11);
  REQUIRE(ack);
  CHECK(ack->at("d").is_null());
  require_gapless(*c);
  CHECK(g.gateway->connections() == 1);
}

TEST_CASE("published messages arrive as MESSAGE_CREATE with gapless s") {
  gateway_env g;
  auto c = g.client();
  c->login(bob_token, 1);
  std::vector<uint64_t> ids;
  for (int i = 0; i < 20; ++i) {
    ids.push_back(g.post("hello " + std::to_string(i)));
  }
  for (auto id : ids) {
    auto m = c->next_op(0, "MESSAGE_CREATE");
    REQUIRE(m);
    CHECK((*m)["d"]["id"] == std::to_string(id));
  }
  require_gapless(*c);
}

TEST_CASE("resume after a dropped connection replays exactly the missed events, then RESUMED") {
  gateway_env g;
  auto first = g.client();
  first->login(bob_token, 1);
  g.post("seen");
  REQUIRE(first->next_op(0, "MESSAGE_CREATE"));
  uint64_t seq = first->last_seq();
  std::string session_id = first->session_id();
  first->drop();
  // Wait until the server noticed, so the missed events are not written to the old socket.
  REQUIRE(eventually([&] { return g.gateway->connections() == 0; }));
  std::vector<uint64_t> missed;
  for (int i = 0; i < 5; ++i) {
    missed.push_back(g.post("missed " + std::to_string(i)));
  }
  auto second = g.client();
  REQUIRE(second->next_op(10));
  second->set_last_seq(seq);
  second->resume(bob_token, session_id, seq);
  for (size_t i = 0; i < missed.size(); ++i) {
    auto m = second->next();
    REQUIRE(m);
    CHECK((*m)["t"] == "MESSAGE_CREATE");
    CHECK((*m)["s"] == seq + 1 + i);
    CHECK((*m)["d"]["id"] == std::to_string(missed[i]));
  }
  auto resumed = second->next();
  REQUIRE(resumed);
  CHECK((*resumed)["t"] == "RESUMED");
  CHECK((*resumed)["s"] == seq + missed.size() + 1);
  auto live = g.post("live");
  auto m = second->next_op(0, "MESSAGE_CREATE");
  REQUIRE(m);
  CHECK((*m)["d"]["id"] == std::to_string(live));
  require_gapless(*second);
}

TEST_CASE("resume while the old connection is still open moves the session to the new one") {
  gateway_env g;
  auto first = g.client();
  first->login(bob_token, 1);
  auto second = g.client();
  REQUIRE(second->next_op(10));
  second->set_last_seq(first->last_seq());
  second->resume(bob_token, first->session_id(), first->last_seq());
  REQUIRE(second->next_op(0, "RESUMED"));
  CHECK(first->wait_close() == 4000);
  auto id = g.post("after");
  auto m = second->next_op(0, "MESSAGE_CREATE");
  REQUIRE(m);
  CHECK((*m)["d"]["id"] == std::to_string(id));
  require_gapless(*second);
}

TEST_CASE("resume failures: unknown or ended session gives op 9 false, future seq 4007") {
  gateway_env g;
  SECTION("unknown session id") {
    auto c = g.client();
    REQUIRE(c->next_op(10));
    c->resume(bob_token, "00000000000000ff", 1);
    auto nine = c->next_op(9);
    REQUIRE(nine);
    CHECK((*nine)["d"].is_boolean());
    CHECK((*nine)["d"] == false);
    // The client may identify again on the same socket.
    c->identify(bob_token);
    REQUIRE(c->next_op(0, "READY"));
  }
  SECTION("session ended by a client close 1000") {
    auto first = g.client();
    first->login(bob_token, 1);
    auto sid = first->session_id();
    auto seq = first->last_seq();
    first->close(1000);
    REQUIRE(eventually([&] { return !g.env.svc->sessions.lookup(std::stoull(sid, nullptr, 16)); }));
    auto c = g.client();
    REQUIRE(c->next_op(10));
    c->resume(bob_token, sid, seq);
    auto nine = c->next_op(9);
    REQUIRE(nine);
    CHECK((*nine)["d"] == false);
  }
  SECTION("another user's token") {
    auto first = g.client();
    first->login(bob_token, 1);
    auto c = g.client();
    REQUIRE(c->next_op(10));
    c->resume(alice_token, first->session_id(), first->last_seq());
    auto nine = c->next_op(9);
    REQUIRE(nine);
    CHECK((*nine)["d"] == false);
  }
  SECTION("a seq the server never sent closes 4007 and the session stays resumable") {
    auto first = g.client();
    first->login(bob_token, 1);
    auto sid = first->session_id();
    auto seq = first->last_seq();
    first->drop();
    auto c = g.client();
    REQUIRE(c->next_op(10));
    c->resume(bob_token, sid, seq + 100);
    CHECK(c->wait_close() == 4007);
    auto again = g.client();
    REQUIRE(again->next_op(10));
    again->resume(bob_token, sid, seq);
    REQUIRE(again->next_op(0, "RESUMED"));
  }
}

TEST_CASE("each close code over the wire") {
  gateway_env g;
  SECTION("4001 unknown opcode") {
    CHECK(close_code_after(g, {{"op", 42}, {"d", nullptr}}) == 4001);
  }
  SECTION("4002 invalid JSON") {
    auto c = g.client();
    REQUIRE(c->next_op(10));
    c->send_text("{\"op\":1,");
    CHECK(c->wait_close() == 4002);
  }
  SECTION("4002 a frame over 4096 bytes") {
    auto c = g.client();
    REQUIRE(c->next_op(10));
    c->send_text("{\"op\":1,\"d\":\"" + std::string(5000, 'x') + "\"}");
    CHECK(c->wait_close() == 4002);
  }
  SECTION("4002 a binary frame") {
    auto c = g.client();
    REQUIRE(c->next_op(10));
    c->send_binary("{\"op\":1}");
    CHECK(c->wait_close() == 4002);
  }
  SECTION("4003 presence update before Identify") {
    CHECK(close_code_after(g, {{"op", 3}, {"d", json::object()}}) == 4003);
  }
  SECTION("4004 bad token") {
    auto c = g.client();
    REQUIRE(c->next_op(10));
    c->identify("not-a-token");
    CHECK(c->wait_close() == 4004);
  }
  SECTION("4000 when the authenticator throws, on Identify and on Resume") {
    auto c = g.client();
    REQUIRE(c->next_op(10));
    c->identify(throwing_token);
    CHECK(c->wait_close() == 4000);
    auto r = g.client();
    REQUIRE(r->next_op(10));
    r->send({{"op", 6},
             {"d", {{"token", throwing_token}, {"session_id", "0123456789abcdef"}, {"seq", 0}}}});
    CHECK(r->wait_close() == 4000);
  }
  SECTION("4005 second Identify") {
    auto c = g.client();
    c->login(bob_token, 1);
    c->identify(bob_token);
    CHECK(c->wait_close() == 4005);
  }
  SECTION("4008 more than 120 frames") {
    auto c = g.client();
    REQUIRE(c->next_op(10));
    for (int i = 0; i < 121; ++i) {
      c->send({{"op", 1}, {"d", nullptr}});
    }
    CHECK(c->wait_close() == 4008);
    size_t acks = 0;
    for (const auto& f : c->frames()) {
      acks += f["op"] == 11 ? 1 : 0;
    }
    CHECK(acks == 120);
  }
  SECTION("4010 invalid shard") {
    auto c = g.client();
    REQUIRE(c->next_op(10));
    c->identify(bob_token, 33281, std::pair{3, 2});
    CHECK(c->wait_close() == 4010);
  }
  SECTION("4012 unsupported version") {
    auto c = g.client("/?v=6&encoding=json");
    CHECK(c->wait_close() == 4012);
  }
  SECTION("4013 unknown intents") {
    auto c = g.client();
    REQUIRE(c->next_op(10));
    c->identify(bob_token, 1u << 30);
    CHECK(c->wait_close() == 4013);
  }
}

TEST_CASE(
    "no heartbeat: the server asks with op 1, then closes 4009 and the session stays resumable") {
  gateway::gateway_options o;
  o.heartbeat_interval_ms = 200;
  o.heartbeat_grace_ms = 400;
  gateway_env g{o};
  auto c = g.client();
  c->login(bob_token, 1);
  // On a slow (sanitizer) build the request can arrive while login still waits for
  // GUILD_CREATE; login keeps every frame it read, so look there first.
  std::optional<json> ask;
  for (const auto& f : c->frames()) {
    if (f["op"] == 1) {
      ask = f;
    }
  }
  if (!ask) {
    ask = c->next_op(1, {}, std::chrono::seconds{5});
  }
  REQUIRE(ask);
  CHECK((*ask)["d"].is_null());
  CHECK(c->wait_close() == 4009);
  auto again = g.client();
  REQUIRE(again->next_op(10));
  again->resume(bob_token, c->session_id(), c->last_seq());
  REQUIRE(again->next_op(0, "RESUMED"));
}

TEST_CASE("a shard receives only its guilds") {
  gateway_env g;
  auto c = g.client();
  REQUIRE(c->next_op(10));
  c->identify(alice_token, 33281, std::pair{1, 2});
  auto ready = c->next_op(0, "READY");
  REQUIRE(ready);
  REQUIRE((*ready)["d"]["guilds"].size() == 1);
  CHECK((*ready)["d"]["guilds"][0]["id"] == std::to_string(guild_a));
  CHECK((*ready)["d"]["shard"] == json::array({1, 2}));
  auto gc = c->next_op(0, "GUILD_CREATE");
  REQUIRE(gc);
  CHECK((*gc)["d"]["id"] == std::to_string(guild_a));
}

TEST_CASE("compress=zlib-stream: every message is a deflated binary frame the client inflates") {
  gateway_env g;
  auto c = g.client("/?v=10&encoding=json&compress=zlib-stream");
  c->login(bob_token, 1);
  auto id = g.post("compressed");
  auto m = c->next_op(0, "MESSAGE_CREATE");
  REQUIRE(m);
  CHECK((*m)["d"]["id"] == std::to_string(id));
  c->heartbeat();
  REQUIRE(c->next_op(11));
  CHECK(c->binary_messages() == c->frames().size());
  CHECK(c->binary_messages() >= 5);
  require_gapless(*c);
}

TEST_CASE("drain sends op 7 Reconnect, closes, and the session can be resumed") {
  gateway::gateway_options o;
  o.drain_close_delay = std::chrono::milliseconds{500};
  gateway_env g{o};
  auto c = g.client();
  c->login(bob_token, 1);
  g.gateway->drain();
  auto seven = c->next_op(7);
  REQUIRE(seven);
  CHECK((*seven)["d"].is_null());
  CHECK(c->wait_close() == 4000);
  REQUIRE(eventually([&] { return g.gateway->connections() == 0; }));
  auto id = g.post("while draining");
  auto again = g.client();
  REQUIRE(again->next_op(10));
  again->set_last_seq(c->last_seq());
  again->resume(bob_token, c->session_id(), c->last_seq());
  auto m = again->next_op(0, "MESSAGE_CREATE");
  REQUIRE(m);
  CHECK((*m)["d"]["id"] == std::to_string(id));
  REQUIRE(again->next_op(0, "RESUMED"));
  require_gapless(*again);
}

TEST_CASE("a client identifying on a draining gateway is closed 4000 at once, without READY") {
  gateway::gateway_options o;
  // The drain's own close comes after 3 s: only the refusal closes within the 2 s waited.
  o.drain_close_delay = std::chrono::seconds{3};
  gateway_env g{o};
  g.gateway->drain();
  auto drained_at = std::chrono::steady_clock::now();
  auto c = g.client();
  REQUIRE(c->next_op(10));
  REQUIRE(c->next_op(7));
  c->identify(bob_token);
  CHECK(c->wait_close(std::chrono::seconds{2}) == 4000);
  for (const auto& f : c->frames()) {
    CHECK(f["op"] != 0);  // no READY (nor any dispatch) before the close
  }
  // Let the drain timer (which holds the connection) fire before the gateway goes.
  std::this_thread::sleep_until(drained_at + std::chrono::milliseconds{3200});
}

TEST_CASE("a user without guilds gets READY with an empty guild list") {
  gateway_env g;
  auto c = g.client();
  auto ready = c->login(carol_token, 0);
  CHECK(ready["d"]["guilds"].empty());
}

TEST_CASE("a client that stops reading is closed 4000 when its queue bound is hit, then resumes") {
  auto dc = gateway_dispatch_config();
  dc.session_limits.queue_max_frames = 32;
  dc.session_limits.queue_max_bytes = 64u << 10;
  // The close frame waits behind the backlog the client has not read yet: give the client
  // (slow under sanitizers) time to read it all before the server gives up on the handshake.
  gateway_env g{gateway::gateway_options{}, dc, std::chrono::seconds{60}};
  auto c = g.client("/?v=10&encoding=json", 4096);
  c->login(bob_token, 1);
  auto sid = c->session_id();
  const std::string content(1500, 'x');
  std::vector<uint64_t> ids;
  auto overflow_closes = [] {
    return metrics::registry::global().value_of("herald_gateway_closes_total", {{"code", "4000"}});
  };
  double before = overflow_closes();
  // Publish until the server gives up on the connection (kernel buffers first, then the
  // session's queue bound).
  for (int i = 0; i < 5000 && overflow_closes() == before; ++i) {
    ids.push_back(g.post(content));
  }
  REQUIRE(overflow_closes() == before + 1);
  // Reading again drains the kernel buffers and the close frame queued behind them.
  CHECK(c->wait_close(std::chrono::seconds{30}) == 4000);
  require_gapless(*c);
  uint64_t seq = c->last_seq();
  auto again = g.client();
  REQUIRE(again->next_op(10));
  again->set_last_seq(seq);
  again->resume(bob_token, sid, seq);
  auto resumed = again->next_op(0, "RESUMED", std::chrono::seconds{30});
  INFO("first client: " << c->frames().size() << " frames, last seq " << seq
                        << "; resumed: " << again->frames().size() << " frames, close "
                        << again->close_code().value_or(0));
  REQUIRE(resumed);
  require_gapless(*again);
  // Every message reached one of the two connections exactly once, in order.
  std::vector<uint64_t> got;
  for (const auto* cl : {c.get(), again.get()}) {
    for (const auto& f : cl->frames()) {
      if (f["t"] == "MESSAGE_CREATE") {
        got.push_back(std::stoull(f["d"]["id"].get<std::string>()));
      }
    }
  }
  CHECK(got == ids);
}

TEST_CASE("a client close other than 1000/1001 keeps the session resumable") {
  gateway_env g;
  auto c = g.client();
  c->login(bob_token, 1);
  c->close(4321);
  REQUIRE(eventually([&] { return g.gateway->connections() == 0; }));
  auto again = g.client();
  REQUIRE(again->next_op(10));
  again->resume(bob_token, c->session_id(), c->last_seq());
  REQUIRE(again->next_op(0, "RESUMED"));
}

TEST_CASE("server closes and refused input are counted by code and kind") {
  auto& reg = metrics::registry::global();
  auto closes = [&] { return reg.value_of("herald_gateway_closes_total", {{"code", "4002"}}); };
  auto errors = [&] {
    return reg.value_of("herald_gateway_inbound_errors_total", {{"kind", "invalid_json"}});
  };
  double closes_before = closes();
  double errors_before = errors();
  gateway_env g;
  auto c = g.client();
  REQUIRE(c->next_op(10));
  c->send_text("not json");
  CHECK(c->wait_close() == 4002);
  CHECK(closes() == closes_before + 1);
  CHECK(errors() == errors_before + 1);
}
