// SPDX-License-Identifier: Apache-2.0
// etcd membership against a real etcd (tools/local-etcd: /usr/bin/etcd on loopback ports in a
// temp dir): nodes see each other, a stopped node is down at once (lease revoked), a key whose
// lease expires is down, a duplicate node id and another secret are refused with one line, and
// while etcd is down the node keeps its view and says why it is not ready; the watch stream of
// the prefix brings changes before the periodic read and opens again after a kick or an etcd
// restart.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <memory>
#include <thread>

#include "runtime/cluster/etcd_client.hpp"
#include "runtime/cluster/etcd_members.hpp"
#include "runtime/cluster/etcd_membership.hpp"
#include "runtime/cluster/etcd_watch.hpp"
#include "test/support/eventually.hpp"
#include "test/support/process.hpp"
#include "tools/local-etcd/local_etcd.hpp"

using namespace herald;
using namespace herald::cluster;
using namespace std::chrono_literals;

namespace {

settings node(const tools::local_etcd_server& etcd, uint16_t id, std::string name,
              std::string secret = "aaaa") {
  settings s;
  s.node_id = id;
  s.name = std::move(name);
  s.listen = "127.0.0.1:" + std::to_string(4370 + id);
  s.roles = {"gateway", "guild"};
  s.etcd = true;
  s.etcd_endpoints = {etcd.endpoint()};
  s.etcd_prefix = "/t/";
  s.etcd_lease_ttl = 2s;
  s.consistency = {{"cluster.vnodes", "256"}, {"identity.secret_file", std::move(secret)}};
  return s;
}

struct test_node {
  test_node(settings s, uint64_t instance)
      : view(std::make_shared<cluster_view>(
            node_row{s.node_id, s.name, s.listen, s.roles, 1, true, true, 0})),
        membership(std::make_unique<etcd_membership>(std::move(s), instance, view)) {}
  std::shared_ptr<cluster_view> view;
  std::unique_ptr<etcd_membership> membership;

  /// The status of node `id` in this node's view: "up", "down" or "" (unknown).
  std::string status(uint16_t id) const {
    for (const auto& r : view->nodes()) {
      if (r.id == id) {
        return r.up ? "up" : "down";
      }
    }
    return "";
  }
};

}  // namespace

TEST_CASE("etcd_members_see_each_other_and_a_stopped_node_is_down_at_once") {
  tools::local_etcd_server etcd;
  test_node a{node(etcd, 1, "na"), 101};
  test_node b{node(etcd, 2, "nb"), 102};
  REQUIRE_FALSE(a.membership->start());
  REQUIRE_FALSE(b.membership->start());
  CHECK(b.status(1) == "up");  // b read the prefix after a registered
  REQUIRE(testing::eventually([&] { return a.status(2) == "up"; }));
  CHECK(a.view->up_count() == 2);
  CHECK(a.view->current_ring()->nodes().size() == 2);
  CHECK(a.membership->requests() > 0);
  CHECK(a.membership->failures() == 0);
  CHECK_FALSE(a.membership->unreachable_reason());

  b.membership->stop();  // revokes its lease: gone before its TTL
  REQUIRE(testing::eventually([&] { return a.status(2) == "down"; }, 1500ms));
  CHECK(a.view->up_count() == 1);
}

TEST_CASE("an_etcd_member_whose_lease_expires_is_down_and_back_as_a_new_incarnation") {
  tools::local_etcd_server etcd;
  test_node a{node(etcd, 1, "na"), 101};
  REQUIRE_FALSE(a.membership->start());
  // A node that registers and then goes silent (crashed): a key under a lease nobody renews.
  etcd_client client{{etcd.endpoint()}};
  etcd_member_set ghost{node(etcd, 5, "ne"), 505, std::chrono::system_clock::now()};
  auto lease = client.grant(2s);
  auto first = client.create("/t/5", encode_etcd_member(ghost.self_request()), lease);
  REQUIRE(first.created);
  REQUIRE(testing::eventually([&] { return a.status(5) == "up"; }));
  const auto generation = a.view->current_ring()->generation();
  REQUIRE(testing::eventually([&] { return a.status(5) == "down"; }));
  CHECK(a.view->current_ring()->generation() > generation);

  auto second = client.create("/t/5", encode_etcd_member(ghost.self_request()), client.grant(2s));
  REQUIRE(second.created);
  REQUIRE(testing::eventually([&] { return a.status(5) == "up"; }));
  auto rows = a.view->nodes();
  auto it = std::find_if(rows.begin(), rows.end(), [](const node_row& r) { return r.id == 5; });
  REQUIRE(it != rows.end());
  CHECK(it->incarnation == static_cast<uint64_t>(second.revision));
  CHECK(it->incarnation > static_cast<uint64_t>(first.revision));
}

TEST_CASE("etcd_membership_refuses_a_live_duplicate_id_and_another_secret_with_one_line") {
  tools::local_etcd_server etcd;
  test_node a{node(etcd, 1, "na"), 101};
  REQUIRE_FALSE(a.membership->start());

  test_node twin{node(etcd, 1, "nd"), 104};  // waits one TTL for the key, which a keeps alive
  auto refusal = twin.membership->start();
  REQUIRE(refusal);
  CHECK(*refusal ==
        "cluster.node_id: 1 of node nd (127.0.0.1:4371) is already used by node na "
        "(127.0.0.1:4371) (live etcd key /t/1): every node needs its own id");

  test_node stranger{node(etcd, 3, "nc", "bbbb"), 103};
  auto other = stranger.membership->start();
  REQUIRE(other);
  CHECK(*other ==
        "identity.secret_file: node na (127.0.0.1:4371) has fingerprint aaaa, node nc "
        "(127.0.0.1:4373) has bbbb: every node of a cluster needs the same");
  CHECK(a.view->up_count() == 1);  // neither was admitted
}

TEST_CASE("etcd_membership_keeps_its_view_while_etcd_is_down_and_says_so") {
  tools::local_etcd_server etcd;
  test_node a{node(etcd, 1, "na"), 101};
  test_node b{node(etcd, 2, "nb"), 102};
  REQUIRE_FALSE(a.membership->start());
  REQUIRE_FALSE(b.membership->start());
  REQUIRE(testing::eventually([&] { return a.status(2) == "up"; }));

  etcd.stop();
  REQUIRE(testing::eventually([&] { return a.membership->unreachable_reason().has_value(); }));
  CHECK(a.membership->unreachable_reason()->rfind("etcd unreachable since ", 0) == 0);
  CHECK(a.membership->failures() > 0);
  CHECK(a.status(2) == "up");  // etcd's silence declares nobody down

  etcd.start();
  REQUIRE(testing::eventually([&] { return !a.membership->unreachable_reason(); }));
  CHECK(a.status(2) == "up");
}

TEST_CASE("etcd_membership_moves_to_the_next_endpoint_and_refuses_to_start_without_etcd") {
  tools::local_etcd_server etcd;
  const std::string dead = "http://127.0.0.1:" + std::to_string(testing::free_port());

  auto s = node(etcd, 1, "na");
  s.etcd_endpoints = {dead, etcd.endpoint()};
  test_node a{s, 101};
  REQUIRE_FALSE(a.membership->start());  // the dead endpoint fails once, the next one answers
  CHECK(a.membership->failures() >= 1);
  CHECK(a.view->up_count() == 1);

  auto lonely = node(etcd, 2, "nb");
  lonely.etcd_endpoints = {dead};
  test_node b{lonely, 102};
  auto refusal = b.membership->start();
  REQUIRE(refusal);
  CHECK(refusal->rfind("cluster.etcd_endpoints: cannot register with etcd within 3 s: etcd " +
                           dead + "/v3/kv/range: ",
                       0) == 0);
}

TEST_CASE("etcd_membership_adopts_its_own_key_when_a_create_answer_was_lost") {
  tools::local_etcd_server etcd;
  // The create went through but its answer never came back: the key is this process's own.
  etcd_client client{{etcd.endpoint()}};
  etcd_member_set same{node(etcd, 1, "na"), 101, std::chrono::system_clock::now()};
  auto lease = client.grant(2s);
  auto created = client.create("/t/1", encode_etcd_member(same.self_request()), lease);
  REQUIRE(created.created);
  test_node a{node(etcd, 1, "na"), 101};
  REQUIRE_FALSE(a.membership->start());
  auto rows = a.view->nodes();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].incarnation == static_cast<uint64_t>(created.revision));
  // It renews the adopted lease: the key outlives the TTL.
  std::this_thread::sleep_for(3s);  // longer than the lease's TTL, not a wait for a condition
  CHECK(client.range_prefix("/t/").kvs.size() == 1);
}

TEST_CASE("an_etcd_watch_stream_brings_changes_before_the_next_periodic_read") {
  tools::local_etcd_server etcd;
  // A long TTL: the periodic read comes only every 20 s, so a change seen within 5 s came
  // through the watch stream.
  auto slow = [&](uint16_t id, std::string name) {
    auto s = node(etcd, id, std::move(name));
    s.etcd_lease_ttl = 60s;
    return s;
  };
  test_node a{slow(1, "na"), 101};
  REQUIRE_FALSE(a.membership->start());
  test_node b{slow(2, "nb"), 102};
  REQUIRE_FALSE(b.membership->start());
  REQUIRE(testing::eventually([&] { return a.status(2) == "up"; }, 5s));
  CHECK(a.membership->watch_events() > 0);
  b.membership->stop();  // revoked: the key's deletion is a watch event too
  REQUIRE(testing::eventually([&] { return a.status(2) == "down"; }, 5s));
  CHECK(a.membership->watch_restarts() == 0);
}

TEST_CASE("an_etcd_watch_reports_puts_opens_again_when_kicked_or_when_etcd_comes_back") {
  tools::local_etcd_server etcd;
  std::atomic<int> calls{0};
  etcd_watch watch{{etcd.endpoint()}, "/w/", [&] { calls.fetch_add(1); }, 500ms};
  watch.start();
  REQUIRE(testing::eventually([&] { return calls.load() >= 1; }));  // the stream is created
  etcd_client client{{etcd.endpoint()}};
  auto lease = client.grant(30s);
  REQUIRE(client.create("/w/1", "one", lease).created);
  REQUIRE(testing::eventually([&] { return watch.events() == 1; }));
  CHECK(client.create("/other/1", "x", lease).created);  // outside the prefix: no event

  const auto before_kick = calls.load();
  watch.kick();
  REQUIRE(testing::eventually([&] { return watch.restarts() == 1; }));
  // Opened again before the next put: a put between the old stream's end and the new one's
  // creation is no event (the membership's range read catches it; this test counts events).
  REQUIRE(testing::eventually([&] { return calls.load() > before_kick; }));
  REQUIRE(client.create("/w/2", "two", lease).created);
  REQUIRE(testing::eventually([&] { return watch.events() == 2; }));

  etcd.stop();
  REQUIRE(testing::eventually([&] { return watch.restarts() >= 2; }));
  const auto before = calls.load();  // no stream can be created while etcd is down
  etcd.start();
  REQUIRE(testing::eventually([&] { return calls.load() > before; }, 10s));  // created again
  etcd_client again{{etcd.endpoint()}};
  REQUIRE(again.create("/w/3", "three", again.grant(30s)).created);
  REQUIRE(testing::eventually([&] { return watch.events() == 3; }));
  watch.stop();  // returns although the stream is open
}
