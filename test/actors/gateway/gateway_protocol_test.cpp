// SPDX-License-Identifier: Apache-2.0
// The per-connection Gateway v10 state machine, driven without sockets: every close
// code, op ordering, heartbeats and the rate limit with an injected clock.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/gateway/gateway_protocol.hpp"

namespace {

using namespace herald::gateway;
using json = nlohmann::json;
using namespace std::chrono_literals;

const time_point t0 = time_point{} + 1000s;

struct harness {
  gateway_options opts;
  gateway_protocol proto{opts};

  explicit harness(gateway_options o = {}) : opts(std::move(o)) {}

  actions open(std::string_view query = "v=10&encoding=json", time_point now = t0) {
    return proto.on_open(query, now);
  }
  actions text(const json& j, time_point now = t0) { return proto.on_text(j.dump(), now); }
  actions identify(const json& extra = json::object(), time_point now = t0) {
    json d = {{"token", "Bot abc"}, {"intents", 513}, {"properties", {{"os", "linux"}}}};
    for (auto& [k, v] : extra.items()) {
      d[k] = v;
    }
    return text({{"op", 2}, {"d", d}}, now);
  }
};

json frame_of(const actions& a, size_t i = 0) {
  REQUIRE(a.size() > i);
  auto* s = std::get_if<send_frame>(&a[i]);
  REQUIRE(s != nullptr);
  return json::parse(s->frame);
}

const close_connection& close_of(const actions& a) {
  REQUIRE(a.size() == 1);
  auto* c = std::get_if<close_connection>(&a[0]);
  REQUIRE(c != nullptr);
  return *c;
}

uint16_t close_code_of(const actions& a) {
  return close_of(a).code;
}

}  // namespace

TEST_CASE("hello_is_the_first_frame_with_the_configured_heartbeat_interval") {
  gateway_options o;
  o.heartbeat_interval_ms = 1234;
  harness h{o};
  auto a = h.open();
  auto hello = frame_of(a);
  CHECK(hello["op"] == 10);
  CHECK(hello["d"]["heartbeat_interval"] == 1234);
  CHECK(hello["s"].is_null());
  CHECK(hello["t"].is_null());
  CHECK(h.proto.state() == protocol_state::hello_sent);
}

TEST_CASE("the_default_heartbeat_interval_is_41250_ms") {
  harness h;
  CHECK(frame_of(h.open())["d"]["heartbeat_interval"] == 41250);
}

TEST_CASE("the_upgrade_query_decides_version_encoding_and_compression") {
  SECTION("no query at all is fine") {
    harness h;
    CHECK(frame_of(h.open(""))["op"] == 10);
    CHECK_FALSE(h.proto.zlib_stream());
  }
  SECTION("v other than 10 closes 4012 and ends the session") {
    harness h;
    auto a = h.open("v=9&encoding=json");
    CHECK(close_code_of(a) == 4012);
    CHECK(close_of(a).end_session);
    CHECK(close_of(a).error == inbound_error::invalid_version);
    CHECK(h.proto.state() == protocol_state::closed);
  }
  SECTION("encoding other than json closes 4002") {
    harness h;
    CHECK(close_code_of(h.open("v=10&encoding=etf")) == 4002);
  }
  SECTION("compress=zlib-stream turns on transport compression") {
    harness h;
    CHECK(frame_of(h.open("v=10&encoding=json&compress=zlib-stream"))["op"] == 10);
    CHECK(h.proto.zlib_stream());
  }
  SECTION("another compress value (zstd-stream, a typo, empty) closes 4002") {
    for (const char* query : {"v=10&compress=zstd-stream", "compress=gzip", "compress="}) {
      INFO(query);
      harness h;
      auto a = h.open(query);
      CHECK(close_code_of(a) == 4002);
      CHECK(close_of(a).error == inbound_error::invalid_compress);
      CHECK(h.proto.state() == protocol_state::closed);
    }
  }
}

TEST_CASE("a_valid_identify_asks_to_open_a_session_with_the_validated_request") {
  harness h;
  h.open();
  auto a = h.identify({{"shard", {1, 4}},
                       {"large_threshold", 1000},
                       {"compress", false},
                       {"presence", {{"status", "online"}}}});
  REQUIRE(a.size() == 1);
  auto* open = std::get_if<open_session>(&a[0]);
  REQUIRE(open != nullptr);
  CHECK(open->request.token == "abc");  // "Bot " stripped
  CHECK(open->request.intents == 513);
  REQUIRE(open->request.shard);
  CHECK((*open->request.shard)[0] == 1);
  CHECK((*open->request.shard)[1] == 4);
  CHECK(open->request.large_threshold == 250);
  CHECK(h.proto.state() == protocol_state::identifying);
  CHECK(h.proto.on_session_opened().empty());
  CHECK(h.proto.state() == protocol_state::ready);
}

TEST_CASE("identify_fields_of_the_wrong_json_type_close_4002") {
  for (const json& extra :
       {json{{"properties", "linux"}}, json{{"compress", "yes"}}, json{{"large_threshold", "250"}},
        json{{"large_threshold", -1}}, json{{"presence", 1}}, json{{"intents", "513"}},
        json{{"token", 42}}, json{{"shard", "0,1"}}}) {
    INFO(extra.dump());
    harness h;
    h.open();
    auto a = h.identify(extra);
    if (extra.contains("shard")) {
      CHECK(close_code_of(a) == 4010);  // a malformed shard keeps its own code
      continue;
    }
    CHECK(close_code_of(a) == 4002);
    CHECK(close_of(a).error == inbound_error::wrong_shape);
  }
  // null stands for an absent optional field.
  harness h;
  h.open();
  auto a = h.identify({{"presence", nullptr}, {"compress", nullptr}, {"large_threshold", nullptr}});
  REQUIRE(a.size() == 1);
  CHECK(std::get_if<open_session>(&a[0]) != nullptr);
}

TEST_CASE("a_bare_token_is_passed_on_unchanged") {
  harness h;
  h.open();
  auto a = h.text({{"op", 2}, {"d", {{"token", "bare.token"}, {"intents", 0}}}});
  CHECK(std::get<open_session>(a.at(0)).request.token == "bare.token");
}

TEST_CASE("a_refused_token_closes_4004_and_a_failed_start_4000") {
  harness h;
  h.open();
  h.identify();
  auto a = h.proto.on_identify_failed(identify_failure::bad_token);
  CHECK(close_code_of(a) == 4004);
  CHECK(close_of(a).end_session);
  harness h2;
  h2.open();
  h2.identify();
  auto b = h2.proto.on_identify_failed(identify_failure::unavailable);
  CHECK(close_code_of(b) == 4000);
  CHECK_FALSE(close_of(b).end_session);
}

TEST_CASE("an_identify_over_the_user_s_budget_gets_op_9_false_and_may_identify_again") {
  harness h;
  h.open();
  h.identify();
  auto a = h.proto.on_identify_failed(identify_failure::rate_limited);
  auto op9 = frame_of(a);
  CHECK(op9["op"] == 9);
  CHECK(op9["d"] == false);
  CHECK(h.proto.state() == protocol_state::hello_sent);
  auto again = h.identify();
  REQUIRE(again.size() == 1);
  CHECK(std::get_if<open_session>(&again[0]) != nullptr);
}

TEST_CASE("identify_validation_maps_each_bad_field_to_its_close_code") {
  harness h;
  h.open();
  SECTION("unknown intent bits close 4013") {
    auto a = h.identify({{"intents", 1u << 30}});
    CHECK(close_code_of(a) == 4013);
    CHECK(close_of(a).end_session);
  }
  SECTION("negative intents close 4013") {
    CHECK(close_code_of(h.identify({{"intents", -1}})) == 4013);
  }
  SECTION("missing intents close 4002") {
    CHECK(close_code_of(h.text({{"op", 2}, {"d", {{"token", "x"}}}})) == 4002);
  }
  SECTION("a non-string token closes 4002") {
    CHECK(close_code_of(h.identify({{"token", 5}})) == 4002);
  }
  SECTION("d that is not an object closes 4002") {
    CHECK(close_code_of(h.text({{"op", 2}, {"d", nullptr}})) == 4002);
  }
  SECTION("shard id >= n closes 4010") {
    auto a = h.identify({{"shard", {2, 2}}});
    CHECK(close_code_of(a) == 4010);
    CHECK(close_of(a).end_session);
  }
  SECTION("shard count 0 closes 4010") {
    CHECK(close_code_of(h.identify({{"shard", {0, 0}}})) == 4010);
  }
  SECTION("a shard of the wrong shape closes 4010") {
    CHECK(close_code_of(h.identify({{"shard", {1}}})) == 4010);
    harness h2;
    h2.open();
    CHECK(close_code_of(h2.identify({{"shard", "0,1"}})) == 4010);
  }
  SECTION("a null shard means no sharding") {
    CHECK_FALSE(std::get<open_session>(h.identify({{"shard", nullptr}}).at(0)).request.shard);
  }
}

TEST_CASE("malformed_inbound_text_closes_4002_with_the_error_kind") {
  harness h;
  h.open();
  SECTION("invalid JSON") {
    auto a = h.proto.on_text("{\"op\":", t0);
    CHECK(close_code_of(a) == 4002);
    CHECK(close_of(a).error == inbound_error::invalid_json);
    CHECK_FALSE(close_of(a).end_session);
  }
  SECTION("not an object") {
    CHECK(close_of(h.proto.on_text("[1,2]", t0)).error == inbound_error::wrong_shape);
  }
  SECTION("op missing") {
    CHECK(close_of(h.text({{"d", 1}})).error == inbound_error::wrong_shape);
  }
  SECTION("op not an integer") {
    CHECK(close_of(h.text({{"op", "1"}})).error == inbound_error::wrong_shape);
    harness h2;
    h2.open();
    CHECK(close_of(h2.text({{"op", 1.5}})).error == inbound_error::wrong_shape);
  }
  SECTION("over 4096 bytes") {
    std::string big = "{\"op\":1,\"d\":\"" + std::string(4100, 'x') + "\"}";
    auto a = h.proto.on_text(big, t0);
    CHECK(close_code_of(a) == 4002);
    CHECK(close_of(a).error == inbound_error::too_big);
  }
  SECTION("exactly 4096 bytes is accepted") {
    std::string head = "{\"op\":1,\"d\":\"";
    std::string msg = head + std::string(4096 - head.size() - 2, 'x') + "\"}";
    REQUIRE(msg.size() == 4096);
    CHECK(frame_of(h.proto.on_text(msg, t0))["op"] == 11);
  }
  SECTION("a transport error (binary, oversize, bad frame)") {
    auto a = h.proto.on_transport_error(inbound_error::binary);
    CHECK(close_code_of(a) == 4002);
    CHECK(close_of(a).error == inbound_error::binary);
  }
}

TEST_CASE("op_ordering_4003_before_identify_4005_for_a_second_identify_4001_unknown_op") {
  harness h;
  h.open();
  SECTION("presence update before Identify closes 4003") {
    auto a = h.text({{"op", 3}, {"d", json::object()}});
    CHECK(close_code_of(a) == 4003);
    CHECK_FALSE(close_of(a).end_session);
  }
  SECTION("request guild members before Identify closes 4003") {
    CHECK(close_code_of(h.text({{"op", 8}, {"d", json::object()}})) == 4003);
  }
  SECTION("heartbeat before Identify is answered") {
    CHECK(frame_of(h.text({{"op", 1}, {"d", nullptr}}))["op"] == 11);
  }
  SECTION("a second Identify closes 4005, also while the first is pending") {
    h.identify();
    CHECK(close_code_of(h.identify()) == 4005);
  }
  SECTION("Identify after ready closes 4005") {
    h.identify();
    h.proto.on_session_opened();
    CHECK(close_code_of(h.identify()) == 4005);
  }
  SECTION("Resume after Identify closes 4005") {
    h.identify();
    h.proto.on_session_opened();
    CHECK(close_code_of(h.text(
              {{"op", 6}, {"d", {{"token", "t"}, {"session_id", "1"}, {"seq", 1}}}})) == 4005);
  }
  SECTION("unknown opcodes close 4001") {
    for (int op : {0, 5, 7, 9, 10, 11, 12, 99, -1}) {
      harness h2;
      h2.open();
      auto a = h2.text({{"op", op}, {"d", nullptr}});
      INFO("op " << op);
      CHECK(close_code_of(a) == 4001);
      CHECK(close_of(a).error == inbound_error::unknown_opcode);
    }
  }
  SECTION("ops the server does not serve are ignored once identified") {
    h.identify();
    h.proto.on_session_opened();
    CHECK(h.text({{"op", 3}, {"d", json::object()}}).empty());
    CHECK(h.text({{"op", 8}, {"d", json::object()}}).empty());
    CHECK(h.proto.state() == protocol_state::ready);
  }
}

TEST_CASE("heartbeats_are_acknowledged_with_any_d") {
  harness h;
  h.open();
  h.identify();
  h.proto.on_session_opened();
  for (json d : {json(nullptr), json(42), json("x"), json::object()}) {
    auto ack = frame_of(h.text({{"op", 1}, {"d", d}}));
    CHECK(ack["op"] == 11);
    CHECK(ack["d"].is_null());
  }
  CHECK(frame_of(h.text({{"op", 1}}))["op"] == 11);  // d missing altogether
}

TEST_CASE("no_heartbeat_op_1_request_at_interval_grace_2_close_4009_at_interval_grace") {
  gateway_options o;
  o.heartbeat_interval_ms = 1000;
  o.heartbeat_grace_ms = 400;
  harness h{o};
  h.open();
  h.identify();
  h.proto.on_session_opened();
  CHECK(h.proto.next_deadline() == t0 + 1200ms);
  CHECK(h.proto.on_tick(t0 + 1199ms).empty());
  auto req = frame_of(h.proto.on_tick(t0 + 1200ms));
  CHECK(req["op"] == 1);
  CHECK(req["d"].is_null());
  CHECK(h.proto.next_deadline() == t0 + 1400ms);
  CHECK(h.proto.on_tick(t0 + 1300ms).empty());  // requested only once
  auto a = h.proto.on_tick(t0 + 1400ms);
  CHECK(close_code_of(a) == 4009);
  CHECK_FALSE(close_of(a).end_session);
  CHECK(close_of(a).error == inbound_error::heartbeat_timeout);
}

TEST_CASE("a_heartbeat_restarts_the_heartbeat_clock") {
  gateway_options o;
  o.heartbeat_interval_ms = 1000;
  o.heartbeat_grace_ms = 400;
  harness h{o};
  h.open();
  CHECK(frame_of(h.proto.on_tick(t0 + 1250ms))["op"] == 1);
  h.text({{"op", 1}, {"d", nullptr}}, t0 + 1300ms);
  CHECK(h.proto.next_deadline() == t0 + 2500ms);
  CHECK(h.proto.on_tick(t0 + 2000ms).empty());
}

TEST_CASE("a_connection_that_never_identifies_times_out_with_4009") {
  gateway_options o;
  o.heartbeat_interval_ms = 100;
  o.heartbeat_grace_ms = 100;
  harness h{o};
  h.open();
  h.proto.on_tick(t0 + 150ms);
  CHECK(close_code_of(h.proto.on_tick(t0 + 200ms)) == 4009);
}

TEST_CASE("the_121st_client_frame_within_60_s_closes_4008_a_new_window_starts_afresh") {
  harness h;
  h.open();
  for (int i = 0; i < 120; ++i) {
    auto a = h.text({{"op", 1}, {"d", nullptr}}, t0 + std::chrono::milliseconds{i * 100});
    REQUIRE(frame_of(a)["op"] == 11);
  }
  SECTION("within the window") {
    auto a = h.text({{"op", 1}, {"d", nullptr}}, t0 + 59s);
    CHECK(close_code_of(a) == 4008);
    CHECK_FALSE(close_of(a).end_session);
    CHECK(close_of(a).error == inbound_error::rate_limited);
  }
  SECTION("after the window") {
    CHECK(frame_of(h.text({{"op", 1}, {"d", nullptr}}, t0 + 60s))["op"] == 11);
  }
  SECTION("invalid frames count too: the limit is checked first") {
    CHECK(close_code_of(h.proto.on_text("garbage", t0 + 1s)) == 4008);
  }
}

TEST_CASE("ping_and_pong_frames_count_against_the_120_per_60_s_limit_with_messages") {
  harness h;
  CHECK(h.proto.on_control_frame(t0).empty());  // before Hello: not counted, nothing to close
  h.open();
  for (int i = 0; i < 60; ++i) {
    REQUIRE(h.proto.on_control_frame(t0 + std::chrono::milliseconds{i}).empty());
    REQUIRE(frame_of(h.text({{"op", 1}, {"d", nullptr}},
                            t0 + std::chrono::milliseconds{i}))["op"] == 11);
  }
  SECTION("the 121st frame within the window, a ping, closes 4008") {
    auto a = h.proto.on_control_frame(t0 + 59s);
    CHECK(close_code_of(a) == 4008);
    CHECK_FALSE(close_of(a).end_session);
    CHECK(close_of(a).error == inbound_error::rate_limited);
    CHECK(h.proto.on_control_frame(t0 + 59s).empty());  // closed: nothing more
  }
  SECTION("a ping in a new window is counted afresh") {
    CHECK(h.proto.on_control_frame(t0 + 60s).empty());
  }
}

TEST_CASE("a_queue_overflow_closes_4000_dropping_the_frames_not_yet_started") {
  harness h;
  h.open();
  h.identify();
  h.proto.on_session_opened();
  auto a = h.proto.on_overflow();
  CHECK(close_code_of(a) == 4000);
  CHECK(close_of(a).drop_unsent);
  CHECK_FALSE(close_of(a).end_session);
  // Other closes keep the frames already queued ahead of the close frame.
  harness other;
  other.open();
  CHECK_FALSE(close_of(other.proto.close_resumable()).drop_unsent);
}

TEST_CASE("resume_asks_to_attach_outcomes_map_to_resumed_flow_op_9_false_4007_4004") {
  harness h;
  h.open();
  json resume = {{"op", 6}, {"d", {{"token", "Bot tok"}, {"session_id", "00ab"}, {"seq", 17}}}};
  auto a = h.text(resume);
  REQUIRE(a.size() == 1);
  auto* r = std::get_if<resume_session>(&a[0]);
  REQUIRE(r != nullptr);
  CHECK(r->request.token == "tok");
  CHECK(r->request.session_id == "00ab");
  CHECK(r->request.seq == 17);
  CHECK(h.proto.state() == protocol_state::resuming);
  SECTION("attached") {
    CHECK(h.proto.on_resumed().empty());
    CHECK(h.proto.state() == protocol_state::ready);
  }
  SECTION("invalid session: op 9 with d false, then Identify on the same socket") {
    auto f = frame_of(h.proto.on_resume_failed(resume_failure::invalid_session));
    CHECK(f["op"] == 9);
    CHECK(f["d"].is_boolean());
    CHECK(f["d"] == false);
    CHECK(h.proto.state() == protocol_state::hello_sent);
    CHECK(std::holds_alternative<open_session>(h.identify().at(0)));
  }
  SECTION("seq never sent closes 4007, resumable") {
    auto c = h.proto.on_resume_failed(resume_failure::seq_never_sent);
    CHECK(close_code_of(c) == 4007);
    CHECK_FALSE(close_of(c).end_session);
  }
  SECTION("bad token closes 4004") {
    CHECK(close_code_of(h.proto.on_resume_failed(resume_failure::bad_token)) == 4004);
  }
}

TEST_CASE("resume_shapes_null_seq_means_0_wrong_fields_close_4002") {
  harness h;
  h.open();
  SECTION("null seq") {
    auto a = h.text({{"op", 6}, {"d", {{"token", "t"}, {"session_id", "1"}, {"seq", nullptr}}}});
    CHECK(std::get<resume_session>(a.at(0)).request.seq == 0);
  }
  SECTION("numeric session id") {
    CHECK(close_code_of(
              h.text({{"op", 6}, {"d", {{"token", "t"}, {"session_id", 1}, {"seq", 1}}}})) == 4002);
  }
  SECTION("negative seq") {
    CHECK(close_code_of(h.text(
              {{"op", 6}, {"d", {{"token", "t"}, {"session_id", "1"}, {"seq", -3}}}})) == 4002);
  }
}

TEST_CASE("overflow_closes_4000_resumably_drain_sends_op_7_first") {
  harness h;
  h.open();
  h.identify();
  h.proto.on_session_opened();
  auto d = frame_of(h.proto.on_drain());
  CHECK(d["op"] == 7);
  CHECK(d["d"].is_null());
  auto c = h.proto.on_overflow();
  CHECK(close_code_of(c) == 4000);
  CHECK_FALSE(close_of(c).end_session);
}

TEST_CASE("revoked_credentials_close_4004_and_end_the_session_nothing_before_hello") {
  harness idle;
  CHECK(idle.proto.on_credentials_revoked().empty());
  harness h;
  h.open();
  h.identify();
  h.proto.on_session_opened();
  auto c = h.proto.on_credentials_revoked();
  CHECK(close_code_of(c) == 4004);
  CHECK(close_of(c).end_session);
  CHECK(h.proto.state() == protocol_state::closed);
  CHECK(h.proto.on_credentials_revoked().empty());
}

TEST_CASE("an_identify_after_drain_is_refused_at_once_with_4000_resume_is_still_accepted") {
  {
    harness h;
    h.open();
    CHECK(frame_of(h.proto.on_drain())["op"] == 7);
    auto c = h.identify();
    CHECK(close_code_of(c) == 4000);  // not open_session: no READY followed by 4000
    CHECK_FALSE(close_of(c).end_session);
    CHECK(h.proto.state() == protocol_state::closed);
  }
  {
    harness h;
    h.open();
    h.proto.on_drain();
    auto r = h.text({{"op", 6}, {"d", {{"token", "abc"}, {"session_id", "00ff"}, {"seq", 3}}}});
    REQUIRE(r.size() == 1);
    CHECK(std::holds_alternative<resume_session>(r[0]));
  }
  {
    harness h;  // heartbeats still get their ACK while the client goes
    h.open();
    h.proto.on_drain();
    CHECK(frame_of(h.text({{"op", 1}, {"d", nullptr}}))["op"] == 11);
  }
}

TEST_CASE("after_a_close_nothing_more_is_produced") {
  harness h;
  h.open();
  h.proto.on_text("nope", t0);
  CHECK(h.proto.state() == protocol_state::closed);
  CHECK(h.text({{"op", 1}}).empty());
  CHECK(h.proto.on_tick(t0 + 1000s).empty());
  CHECK(h.proto.on_drain().empty());
  CHECK(h.proto.on_overflow().empty());
  CHECK(h.proto.close_resumable().empty());
  CHECK(h.proto.on_session_opened().empty());
}

TEST_CASE("input_before_the_upgrade_completed_is_ignored") {
  harness h;
  CHECK(h.text({{"op", 1}}).empty());
  CHECK(h.proto.on_tick(t0 + 1000s).empty());
}

TEST_CASE("filter_shard_keeps_guilds_with_id_22_n_shard_id") {
  std::vector<uint64_t> ids{0u << 22, 1u << 22, 2u << 22, 3u << 22, (5ull << 22) | 123};
  CHECK(filter_shard(ids, std::nullopt) == ids);
  CHECK(filter_shard(ids, std::array<uint32_t, 2>{0, 1}) == ids);
  CHECK(filter_shard(ids, std::array<uint32_t, 2>{1, 2}) ==
        std::vector<uint64_t>{1u << 22, 3u << 22, (5ull << 22) | 123});
  CHECK(filter_shard(ids, std::array<uint32_t, 2>{0, 2}) == std::vector<uint64_t>{0, 2u << 22});
}

TEST_CASE("close_codes_resumability_follows_the_gateway_md_table") {
  for (auto c : {4000, 4001, 4002, 4003, 4005, 4007, 4008, 4009}) {
    CHECK(resumable(static_cast<close_code>(c)));
  }
  for (auto c : {4004, 4010, 4012, 4013}) {
    CHECK_FALSE(resumable(static_cast<close_code>(c)));
  }
  CHECK(peer_close_ends_session(1000));
  CHECK(peer_close_ends_session(1001));
  CHECK_FALSE(peer_close_ends_session(1006));
  CHECK_FALSE(peer_close_ends_session(4000));
}
