// SPDX-License-Identifier: Apache-2.0
// The membership rules of member_table.hpp, driven step by step with explicit time: join
// checks (one line naming the key), failure detection, pause detection, re-admission as a new
// incarnation.
#include <catch2/catch.hpp>

#include "runtime/cluster/member_table.hpp"
#include "runtime/cluster/ring.hpp"

using namespace herald::cluster;
using namespace std::chrono_literals;

namespace {

settings node_settings(uint16_t id, const std::string& name, const std::string& secret_fp) {
  settings s;
  s.node_id = id;
  s.name = name;
  s.listen = "127.0.0.1:" + std::to_string(4370 + id);
  s.seeds = {"127.0.0.1:4371"};
  s.roles = {"gateway", "guild"};
  s.heartbeat_interval = 100ms;
  s.failure_timeout = 500ms;
  s.consistency = {{"identity.secret_file", secret_fp}};
  return s;
}

struct clocks {
  steady::time_point now = steady::time_point{} + 1000s;
  wall::time_point wall_now = wall::time_point{} + 1000000s;
  void advance(std::chrono::milliseconds d) {
    now += d;
    wall_now += d;
  }
};

}  // namespace

TEST_CASE("a_consistent_node_is_admitted_and_the_ring_generation_moves") {
  clocks c;
  member_table a{node_settings(1, "a", "fp1"), 11, c.now, c.wall_now};
  member_table b{node_settings(2, "b", "fp1"), 22, c.now, c.wall_now};
  auto gen = a.generation();
  auto v = a.on_join(b.make_join_request(), c.now, c.wall_now);
  CHECK(v.accepted);
  CHECK(v.changed);
  CHECK(a.generation() > gen);
  auto accepted = b.on_accepted(a.self(), c.now, c.wall_now);
  CHECK(accepted.changed);
  CHECK(a.up_with_role("guild") == std::vector<uint16_t>{1, 2});
  CHECK(b.up_with_role("guild") == std::vector<uint16_t>{1, 2});
  CHECK(a.up_peer_addresses() == std::vector<std::string>{"127.0.0.1:4372"});
  // The same join again changes nothing.
  CHECK_FALSE(a.on_join(b.make_join_request(), c.now, c.wall_now).changed);
}

TEST_CASE("a_join_with_a_live_duplicate_node_id_is_refused_naming_cluster_node_id") {
  clocks c;
  member_table a{node_settings(1, "a", "fp"), 11, c.now, c.wall_now};
  member_table b{node_settings(2, "b", "fp"), 22, c.now, c.wall_now};
  member_table b_twin{node_settings(2, "b2", "fp"), 33, c.now, c.wall_now};
  member_table a_twin{node_settings(1, "a2", "fp"), 44, c.now, c.wall_now};
  REQUIRE(a.on_join(b.make_join_request(), c.now, c.wall_now).accepted);
  auto twin = a.on_join(b_twin.make_join_request(), c.now, c.wall_now);
  CHECK_FALSE(twin.accepted);
  CHECK(twin.refusal.rfind(
            "cluster.node_id: 2 of node b2 (127.0.0.1:4372) is already used by node b", 0) == 0);
  CHECK(twin.refusal.find('\n') == std::string::npos);
  auto own = a.on_join(a_twin.make_join_request(), c.now, c.wall_now);
  CHECK_FALSE(own.accepted);
  CHECK(own.refusal.rfind("cluster.node_id: 1 of node a2", 0) == 0);
}

TEST_CASE("a_join_with_another_secret_or_protocol_is_refused_naming_the_key") {
  clocks c;
  member_table a{node_settings(1, "a", "1111aaaa"), 11, c.now, c.wall_now};
  member_table other_secret{node_settings(2, "b", "2222bbbb"), 22, c.now, c.wall_now};
  auto v = a.on_join(other_secret.make_join_request(), c.now, c.wall_now);
  CHECK_FALSE(v.accepted);
  CHECK(v.refusal.rfind("identity.secret_file: node b (127.0.0.1:4372) has fingerprint 2222bbbb",
                        0) == 0);

  auto s = node_settings(3, "c", "1111aaaa");
  s.protocol = protocol_version + 1;
  member_table newer{s, 33, c.now, c.wall_now};
  auto p = a.on_join(newer.make_join_request(), c.now, c.wall_now);
  CHECK_FALSE(p.accepted);
  CHECK(p.refusal.rfind("protocol_version: node c (127.0.0.1:4373) speaks cluster protocol 2", 0) ==
        0);
  CHECK(a.members().size() == 1);
}

TEST_CASE("a_silent_peer_is_declared_down_after_the_failure_timeout_and_not_before") {
  clocks c;
  member_table a{node_settings(1, "a", "fp"), 11, c.now, c.wall_now};
  member_table b{node_settings(2, "b", "fp"), 22, c.now, c.wall_now};
  REQUIRE(a.on_join(b.make_join_request(), c.now, c.wall_now).accepted);
  bool changed = false;
  for (int i = 0; i < 10; ++i) {  // 1 s of heartbeats: stays up
    c.advance(100ms);
    CHECK(a.on_heartbeat({2, 22, 1}, c.now, c.wall_now, changed) == member_table::heard::ok);
    CHECK(a.tick(c.now, c.wall_now).declared_down.empty());
  }
  for (int i = 0; i < 5; ++i) {  // 500 ms of silence: not yet
    c.advance(100ms);
    CHECK(a.tick(c.now, c.wall_now).declared_down.empty());
  }
  c.advance(100ms);
  auto r = a.tick(c.now, c.wall_now);
  CHECK(r.declared_down == std::vector<uint16_t>{2});
  CHECK_FALSE(a.find(2)->up);
  CHECK(a.up_with_role("guild") == std::vector<uint16_t>{1});
}

TEST_CASE("a_frozen_node_declares_nobody_down_on_its_first_tick_after_the_freeze") {
  clocks c;
  member_table a{node_settings(1, "a", "fp"), 11, c.now, c.wall_now};
  member_table b{node_settings(2, "b", "fp"), 22, c.now, c.wall_now};
  REQUIRE(a.on_join(b.make_join_request(), c.now, c.wall_now).accepted);
  a.tick(c.now, c.wall_now);
  c.advance(3000ms);  // SIGSTOP for 3 s
  auto r = a.tick(c.now, c.wall_now);
  REQUIRE(r.paused.has_value());
  CHECK(r.paused->count() == 3000);
  CHECK(r.declared_down.empty());
  CHECK(a.find(2)->up);
  c.advance(100ms);
  CHECK(a.tick(c.now, c.wall_now).declared_down.empty());  // a fresh timeout, not a stale one
}

TEST_CASE("a_peer_declared_down_is_readmitted_only_as_a_new_incarnation") {
  clocks c;
  member_table a{node_settings(1, "a", "fp"), 11, c.now, c.wall_now};
  member_table b{node_settings(2, "b", "fp"), 22, c.now, c.wall_now};
  REQUIRE(a.on_join(b.make_join_request(), c.now, c.wall_now).accepted);
  a.tick(c.now, c.wall_now);
  for (int i = 0; i < 6; ++i) {
    c.advance(100ms);
    a.tick(c.now, c.wall_now);
  }
  REQUIRE_FALSE(a.find(2)->up);
  auto gen = a.generation();
  bool changed = false;
  // b was frozen and comes back with its old incarnation: a says "declared down".
  CHECK(a.on_heartbeat({2, 22, 1}, c.now, c.wall_now, changed) == member_table::heard::stale);
  CHECK_FALSE(a.find(2)->up);
  CHECK(b.on_declared_down({2, 22, 1}));
  CHECK(b.self().incarnation == 2);
  CHECK_FALSE(b.on_declared_down({2, 22, 1}));  // a second peer saying so raises nothing
  CHECK(a.on_heartbeat({2, 22, b.self().incarnation}, c.now, c.wall_now, changed) ==
        member_table::heard::ok);
  CHECK(changed);
  CHECK(a.find(2)->up);
  CHECK(a.find(2)->info.incarnation == 2);
  CHECK(a.generation() > gen);
}

TEST_CASE("a_restarted_process_of_a_down_node_is_admitted_and_a_lost_connection_declares_down") {
  clocks c;
  member_table a{node_settings(1, "a", "fp"), 11, c.now, c.wall_now};
  member_table b{node_settings(2, "b", "fp"), 22, c.now, c.wall_now};
  REQUIRE(a.on_join(b.make_join_request(), c.now, c.wall_now).accepted);
  CHECK_FALSE(a.on_connection_lost(2, 99, c.wall_now));  // another instance: not this one
  CHECK(a.on_connection_lost(2, 22, c.wall_now));
  CHECK_FALSE(a.find(2)->up);
  member_table b_restarted{node_settings(2, "b", "fp"), 23, c.now, c.wall_now};
  auto v = a.on_join(b_restarted.make_join_request(), c.now, c.wall_now);
  CHECK(v.accepted);
  CHECK(a.find(2)->up);
  CHECK(a.find(2)->info.instance == 23);
  bool changed = false;
  CHECK(a.on_heartbeat({2, 22, 5}, c.now, c.wall_now, changed) == member_table::heard::unknown);
}

TEST_CASE("a_draining_node_stays_up_but_leaves_the_ring_of_every_node_that_knows_it") {
  clocks c;
  member_table a{node_settings(1, "a", "fp"), 11, c.now, c.wall_now};
  member_table b{node_settings(2, "b", "fp"), 22, c.now, c.wall_now};
  member_table d{node_settings(3, "d", "fp"), 33, c.now, c.wall_now};
  for (auto* joiner : {&b, &d}) {
    REQUIRE(a.on_join(joiner->make_join_request(), c.now, c.wall_now).accepted);
    REQUIRE(joiner->on_accepted(a.self(), c.now, c.wall_now).accepted);
  }
  REQUIRE(b.on_join(d.make_join_request(), c.now, c.wall_now).accepted);
  REQUIRE(d.on_accepted(b.self(), c.now, c.wall_now).accepted);
  ring before{a.ring_nodes(), 64, a.generation()};
  REQUIRE(before.nodes() == std::vector<uint16_t>{1, 2, 3});

  // b drains: its own ring drops it at once, a new generation.
  auto gen_b = b.generation();
  CHECK(b.set_self_draining());
  CHECK(b.draining());
  CHECK(b.generation() > gen_b);
  CHECK_FALSE(b.set_self_draining());  // idempotent
  CHECK(b.ring_nodes() == std::vector<uint16_t>{1, 3});

  // Its notice reaches a: b is still up (routing, relays) but off a's ring.
  auto gen_a = a.generation();
  CHECK(a.on_drain_notice(wire::drain_notice{2, 22, true}));
  CHECK(a.generation() > gen_a);
  CHECK_FALSE(a.on_drain_notice(wire::drain_notice{2, 22, true}));  // repeated: no change
  CHECK(a.find(2)->up);
  CHECK(a.find(2)->draining);
  CHECK(a.up_with_role("guild") == std::vector<uint16_t>{1, 2, 3});
  CHECK(a.ring_nodes() == std::vector<uint16_t>{1, 3});
  // A notice of another instance of b, or of an unknown node, changes nothing.
  CHECK_FALSE(d.on_drain_notice(wire::drain_notice{2, 99, true}));
  CHECK_FALSE(d.on_drain_notice(wire::drain_notice{7, 77, true}));
  CHECK(d.ring_nodes() == std::vector<uint16_t>{1, 2, 3});

  // Every guild b owned moves to a node that stays, none of the others moves, and a and b
  // agree on every owner.
  ring after_a{a.ring_nodes(), 64, a.generation()};
  ring after_b{b.ring_nodes(), 64, b.generation()};
  int moved = 0;
  int on_b = 0;
  int disagree = 0;
  int others_moved = 0;
  for (uint64_t g = 1; g <= 20000; ++g) {
    auto was = before.owner(g * 7919);
    auto now = after_a.owner(g * 7919);
    REQUIRE(now);
    on_b += *now == 2 ? 1 : 0;
    disagree += now != after_b.owner(g * 7919) ? 1 : 0;
    if (*was == 2) {
      ++moved;
    } else {
      others_moved += now != was ? 1 : 0;
    }
  }
  CHECK(moved > 0);
  CHECK(on_b == 0);
  CHECK(disagree == 0);
  CHECK(others_moved == 0);

  // b restarts (a new instance joins): it is not draining and back on a's ring.
  member_table b2{node_settings(2, "b", "fp"), 44, c.now, c.wall_now};
  REQUIRE(a.on_connection_lost(2, 22, c.wall_now));
  REQUIRE(a.on_join(b2.make_join_request(), c.now, c.wall_now).accepted);
  CHECK_FALSE(a.find(2)->draining);
  CHECK(a.ring_nodes() == std::vector<uint16_t>{1, 2, 3});
}
