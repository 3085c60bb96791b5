// SPDX-License-Identifier: Apache-2.0
// The gateway over real loopback sockets: a Beast client against http_server + gateway_server
// + dispatch services on SQLite. Login, dispatch, every close code, resume with missed events,
// drain, sharding and zlib-stream.

#include <thread>

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

TEST_CASE("a_client_logs_in_hello_ready_with_s_1_a_guild_create_per_guild_heartbeat_ack") {
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

TEST_CASE("published_messages_arrive_as_message_create_with_gapless_s") {
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

TEST_CASE("resume_after_a_dropped_connection_replays_exactly_the_missed_events_then_resumed") {
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

TEST_CASE("resume_while_the_old_connection_is_still_open_moves_the_session_to_the_new_one") {
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

TEST_CASE("resume_failures_unknown_or_ended_session_gives_op_9_false_future_seq_4007") {
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

TEST_CASE("each_close_code_over_the_wire") {
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
  SECTION("4004 a valid token of a user the store does not hold") {
    // The store's not_found goes through dispatch::from_store_error as unknown_user.
    auto c = g.client();
    REQUIRE(c->next_op(10));
    c->identify(ghost_token);
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
    "no_heartbeat_the_server_asks_with_op_1_then_closes_4009_and_the_session_stays_resumable") {
  gateway::gateway_options o;
  // Long enough for READY to arrive on a loaded sanitizer build before the close (the login
  // itself does not heartbeat), short enough to keep the test quick.
  o.heartbeat_interval_ms = 500;
  o.heartbeat_grace_ms = 1500;
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

TEST_CASE("a_shard_receives_only_its_guilds") {
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

TEST_CASE("compress_zlib_stream_every_message_is_a_deflated_binary_frame_the_client_inflates") {
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

TEST_CASE("drain_sends_op_7_reconnect_closes_and_the_session_can_be_resumed") {
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

TEST_CASE("a_client_identifying_on_a_draining_gateway_is_closed_4000_at_once_without_ready") {
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

TEST_CASE("a_user_without_guilds_gets_ready_with_an_empty_guild_list") {
  gateway_env g;
  auto c = g.client();
  auto ready = c->login(carol_token, 0);
  CHECK(ready["d"]["guilds"].empty());
}

TEST_CASE("a_client_that_stops_reading_is_closed_4000_when_its_queue_bound_is_hit_then_resumes") {
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

TEST_CASE("a_client_close_other_than_1000_1001_keeps_the_session_resumable") {
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

TEST_CASE("server_closes_and_refused_input_are_counted_by_code_and_kind") {
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

TEST_CASE("an_identify_over_the_user_s_budget_gets_op_9_false_counted_and_the_client_retries") {
  gateway::gateway_options o;
  o.identify_limits.max_concurrency = 1;
  o.identify_limits.window = std::chrono::milliseconds{300};
  gateway_env g{o};
  auto refused = [] {
    return metrics::registry::global().value_of("herald_limit_refusals_total",
                                                {{"limit", "identify_rate"}});
  };
  double before = refused();
  auto first = g.client();
  first->login(bob_token, 1);
  auto second = g.client();
  REQUIRE(second->next_op(10));
  second->identify(bob_token);
  auto op9 = second->next_op(9);
  REQUIRE(op9);
  CHECK((*op9)["d"] == false);
  CHECK(refused() == before + 1);
  CHECK(g.gateway->identify_budget_of(bob).max_concurrency == 1);
  // Another user is not affected; after the window the same socket identifies.
  g.client()->login(alice_token, 2);
  std::this_thread::sleep_for(std::chrono::milliseconds{350});
  second->identify(bob_token);
  CHECK(second->next_op(0, "READY"));
}

TEST_CASE("a_compress_value_other_than_zlib_stream_is_refused_with_4002_after_hello") {
  gateway_env g;
  auto c = g.client("/?v=10&encoding=json&compress=zstd-stream");
  CHECK(c->wait_close() == 4002);
}
