// SPDX-License-Identifier: Apache-2.0
// etcd membership's link bookkeeping without actors or sockets (runtime/cluster/link_table.hpp):
// whom to dial as etcd lists peers up, the backoff of a peer that cannot be linked, forgetting a
// peer etcd drops, re-linking a restarted peer (another instance), and stale dial outcomes.
#include <catch2/catch.hpp>

#include "runtime/cluster/link_table.hpp"

using namespace herald;
using namespace herald::cluster;
using namespace std::chrono_literals;

namespace {

using clock_type = std::chrono::steady_clock;

wire::member_info peer(uint16_t id, uint64_t instance, uint64_t incarnation = 1) {
  wire::member_info m;
  m.node_id = id;
  m.name = "n" + std::to_string(id);
  m.address = "127.0.0.1:" + std::to_string(4370 + id);
  m.instance = instance;
  m.incarnation = incarnation;
  return m;
}

std::vector<uint16_t> ids(const std::vector<wire::member_info>& peers) {
  std::vector<uint16_t> out;
  for (const auto& p : peers) {
    out.push_back(p.node_id);
  }
  return out;
}

}  // namespace

TEST_CASE("listed_peers_are_dialled_once_and_linked_only_after_their_handshake") {
  link_table t;
  auto now = clock_type::now();
  CHECK(t.set_wanted({peer(2, 20), peer(3, 30)}, now).empty());
  CHECK(ids(t.due(now)) == std::vector<uint16_t>{2, 3});
  CHECK(t.due(now).empty());  // dials in flight: not twice
  CHECK(t.linked().empty());
  CHECK(t.on_linked(2, 20));
  CHECK(t.linked() == std::vector<uint16_t>{2});
  CHECK(t.due(now + 1h).empty());  // 2 linked, 3 still in flight
  CHECK_FALSE(t.next_due());
}

TEST_CASE("a_peer_that_cannot_be_linked_is_retried_with_doubling_bounded_backoff") {
  link_table t{link_backoff{100ms, 1000ms, 30000ms}};
  auto now = clock_type::now();
  t.set_wanted({peer(2, 20)}, now);
  std::vector<std::chrono::milliseconds> delays;
  std::vector<bool> logged;
  for (int i = 0; i < 6; ++i) {
    REQUIRE(ids(t.due(now)) == std::vector<uint16_t>{2});
    auto f = t.on_failed(2, 20, now);
    REQUIRE(f);
    CHECK(f->in_a_row == static_cast<uint32_t>(i + 1));
    delays.push_back(f->retry_in);
    logged.push_back(f->log);
    REQUIRE(t.next_due() == now + f->retry_in);
    CHECK(t.due(now + f->retry_in - 1ms).empty());  // not before its time
    now += f->retry_in;
  }
  CHECK(delays ==
        std::vector<std::chrono::milliseconds>{100ms, 200ms, 400ms, 800ms, 1000ms, 1000ms});
  // The first failure is logged, the rest of the row only once log_every passed.
  CHECK(logged == std::vector<bool>{true, false, false, false, false, false});
  REQUIRE(ids(t.due(now + 30s)) == std::vector<uint16_t>{2});
  CHECK(t.on_failed(2, 20, now + 30s)->log);
  // Linked at last: the row ends; a later failure starts a new one at the first step.
  REQUIRE(ids(t.due(now + 40s)) == std::vector<uint16_t>{2});
  CHECK(t.on_linked(2, 20));
  CHECK(t.on_lost(2, 20, now + 50s));
  CHECK(t.linked().empty());
  CHECK(t.next_due() == now + 50s + 100ms);
  REQUIRE(ids(t.due(now + 50s + 100ms)) == std::vector<uint16_t>{2});
  auto again = t.on_failed(2, 20, now + 51s);
  REQUIRE(again);
  CHECK(again->in_a_row == 1);
  CHECK(again->retry_in == 100ms);
  CHECK(again->log);
}

TEST_CASE("a_peer_etcd_drops_is_forgotten_and_a_restarted_peer_is_linked_again") {
  link_table t;
  auto now = clock_type::now();
  t.set_wanted({peer(2, 20), peer(3, 30)}, now);
  t.due(now);
  REQUIRE(t.on_linked(2, 20));
  REQUIRE(t.on_linked(3, 30));
  // A new incarnation of the same process (it re-registered) keeps its link.
  CHECK(t.set_wanted({peer(2, 20, 9), peer(3, 30)}, now).empty());
  CHECK(t.linked() == std::vector<uint16_t>{2, 3});
  CHECK(t.find(2)->incarnation == 9);
  // 3 is gone from etcd: its link is forgotten, it is not dialled.
  CHECK(t.set_wanted({peer(2, 20, 9)}, now) == std::vector<uint16_t>{3});
  CHECK(t.linked() == std::vector<uint16_t>{2});
  CHECK(t.find(3) == nullptr);
  CHECK(t.due(now + 1h).empty());
  CHECK_FALSE(t.on_lost(3, 30, now));  // its connection closing later changes nothing
  // 3 restarted (another instance): dialled; the old instance's late outcome is ignored.
  CHECK(t.set_wanted({peer(2, 20, 9), peer(3, 31, 12)}, now).empty());
  REQUIRE(ids(t.due(now)) == std::vector<uint16_t>{3});
  CHECK_FALSE(t.on_linked(3, 30));
  CHECK_FALSE(t.on_failed(3, 30, now));
  CHECK(t.due(now + 1h).empty());  // the new instance's dial is still in flight
  CHECK(t.on_linked(3, 31));
  CHECK(t.linked() == std::vector<uint16_t>{2, 3});
  // 2 restarted while linked: the old link is forgotten in the same step, the new one dialled.
  CHECK(t.set_wanted({peer(2, 21, 15), peer(3, 31, 12)}, now) == std::vector<uint16_t>{2});
  CHECK(t.linked() == std::vector<uint16_t>{3});
  CHECK(ids(t.due(now)) == std::vector<uint16_t>{2});
  CHECK_FALSE(t.on_lost(2, 20, now));  // the old process's connection closing
}
