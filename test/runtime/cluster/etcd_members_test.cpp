// SPDX-License-Identifier: Apache-2.0
// etcd membership's model without etcd: the value of a member's key, the member set built from
// reads of the prefix (keys = members up, a gone key = down, create_revision = incarnation) and
// the refusals (another secret, a live key of this node's id); base64 and prefix ranges.
#include <catch2/catch.hpp>

#include "runtime/cluster/etcd_client.hpp"
#include "runtime/cluster/etcd_members.hpp"

using namespace herald;
using namespace herald::cluster;

namespace {

using wall = std::chrono::system_clock;

settings node(uint16_t id, std::string name, std::string secret = "aaaa") {
  settings s;
  s.node_id = id;
  s.name = std::move(name);
  s.listen = "127.0.0.1:" + std::to_string(4370 + id);
  s.roles = {"gateway", "guild"};
  s.etcd = true;
  s.etcd_prefix = "/herald/";
  s.consistency = {{"cluster.vnodes", "256"}, {"identity.secret_file", std::move(secret)}};
  return s;
}

/// The key `s`'s node writes, as a read of the prefix returns it.
etcd_kv key_of(const settings& s, uint64_t instance, int64_t create_revision) {
  etcd_member_set m{s, instance, wall::now()};
  return etcd_kv{etcd_member_key(s.etcd_prefix, s.node_id), encode_etcd_member(m.self_request()),
                 create_revision, 77};
}

}  // namespace

TEST_CASE("an_etcd_member_value_round_trips_with_the_create_revision_as_incarnation") {
  auto kv = key_of(node(3, "nc"), 0xdeadbeefcafe1234ULL, 42);
  CHECK(kv.key == "/herald/3");
  auto req = decode_etcd_member(kv);
  REQUIRE(req);
  CHECK(req->protocol == protocol_version);
  CHECK(req->from.node_id == 3);
  CHECK(req->from.name == "nc");
  CHECK(req->from.address == "127.0.0.1:4373");
  CHECK(req->from.roles == std::vector<std::string>{"gateway", "guild"});
  CHECK(req->from.instance == 0xdeadbeefcafe1234ULL);
  CHECK(req->from.incarnation == 42);
  REQUIRE(req->consistency_keys.size() == 2);
  CHECK_FALSE(decode_etcd_member(etcd_kv{"/herald/3", "not json", 1, 0}));
  CHECK_FALSE(decode_etcd_member(etcd_kv{"/herald/3", "{\"node_id\":3}", 1, 0}));
}

TEST_CASE("the_etcd_member_set_follows_the_keys_up_down_and_new_incarnations") {
  etcd_member_set set{node(1, "na"), 11, wall::now()};
  set.set_self_incarnation(5);
  const auto g0 = set.generation();
  auto b = key_of(node(2, "nb"), 22, 6);
  auto c = key_of(node(3, "nc"), 33, 7);
  auto self_key = key_of(node(1, "na"), 11, 5);

  auto r = set.apply({self_key, b, c}, wall::now());
  CHECK(r.changed);
  CHECK(r.up == std::vector<uint16_t>{2, 3});
  CHECK(set.generation() > g0);
  CHECK(set.is_up(2));
  CHECK(set.build_ring()->generation() == set.generation());
  CHECK(set.rows().size() == 3);

  const auto g1 = set.generation();
  CHECK_FALSE(set.apply({self_key, b, c}, wall::now()).changed);
  CHECK(set.generation() == g1);

  r = set.apply({self_key, c}, wall::now());  // nb's lease expired
  CHECK(r.down == std::vector<uint16_t>{2});
  CHECK_FALSE(set.is_up(2));
  CHECK(set.generation() > g1);
  auto rows = set.rows();
  CHECK_FALSE(rows[1].up);
  CHECK(rows[1].incarnation == 6);

  r = set.apply({self_key, key_of(node(2, "nb"), 22, 19), c}, wall::now());  // registered again
  CHECK(r.up == std::vector<uint16_t>{2});
  CHECK(set.is_up(2));
  CHECK(set.find(2)->incarnation == 19);

  // etcd's silence is no read: the caller does not apply anything, the set stays as it is.
  CHECK(set.rows().size() == 3);
}

TEST_CASE("the_etcd_member_set_refuses_another_secret_and_a_live_key_of_its_own_id") {
  etcd_member_set set{node(1, "na"), 11, wall::now()};
  auto other_secret = key_of(node(2, "nb", "bbbb"), 22, 6);
  auto r = set.apply({other_secret}, wall::now());
  CHECK_FALSE(r.changed);
  REQUIRE(r.rejected.size() == 1);
  CHECK(r.rejected[0] ==
        "identity.secret_file: node nb (127.0.0.1:4372) has fingerprint bbbb, node na "
        "(127.0.0.1:4371) has aaaa: every node of a cluster needs the same");

  auto twin = decode_etcd_member(key_of(node(1, "nd"), 99, 8));
  REQUIRE(twin);
  CHECK(set.refusal(*twin, "/herald/1") ==
        std::optional<std::string>{
            "cluster.node_id: 1 of node na (127.0.0.1:4371) is already used by node nd "
            "(127.0.0.1:4371) (live etcd key /herald/1): every node needs its own id"});
  auto mine = decode_etcd_member(key_of(node(1, "na"), 11, 8));
  CHECK_FALSE(set.refusal(*mine, "/herald/1"));

  auto r2 = set.apply({etcd_kv{"/herald/9", "garbage", 3, 0}}, wall::now());
  CHECK(r2.undecodable == 1);
  CHECK_FALSE(r2.changed);
}

TEST_CASE("base64_and_prefix_ends_match_what_etcd_expects") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("/herald/1") == "L2hlcmFsZC8x");
  CHECK(base64_encode("ab") == "YWI=");
  CHECK(base64_encode("abc") == "YWJj");
  CHECK(base64_decode("eyJhIjoxfQ==") == "{\"a\":1}");
  CHECK(base64_decode(base64_encode(std::string("\0\xff\x10z", 4))) ==
        std::string("\0\xff\x10z", 4));
  CHECK_THROWS_AS(base64_decode("a*b"), etcd_error);
  CHECK(prefix_end("/herald/") == "/herald0");
  CHECK(prefix_end(std::string("a\xff", 2)) == "b");
}

TEST_CASE("a_draining_etcd_member_stays_up_but_leaves_the_ring_of_its_own_node_and_the_others") {
  etcd_member_set set{node(1, "na"), 11, wall::now()};
  set.set_self_incarnation(5);
  auto self_key = key_of(node(1, "na"), 11, 5);
  auto b = key_of(node(2, "nb"), 22, 6);
  auto c = key_of(node(3, "nc"), 33, 7);
  REQUIRE(set.apply({self_key, b, c}, wall::now()).changed);
  REQUIRE(set.build_ring()->nodes() == std::vector<uint16_t>{1, 2, 3});

  // nb's process writes its value again with "draining": the same key and create_revision.
  etcd_member_set nb{node(2, "nb"), 22, wall::now()};
  auto b_draining = b;
  b_draining.value = encode_etcd_member(nb.self_request(), true);
  CHECK(etcd_member_draining(b_draining));
  CHECK_FALSE(etcd_member_draining(b));
  REQUIRE(decode_etcd_member(b_draining));  // still a member value
  const auto g = set.generation();
  auto r = set.apply({self_key, b_draining, c}, wall::now());
  CHECK(r.changed);
  CHECK(r.draining == std::vector<uint16_t>{2});
  CHECK(r.up.empty());
  CHECK(set.generation() > g);
  CHECK(set.is_up(2));
  CHECK(set.build_ring()->nodes() == std::vector<uint16_t>{1, 3});
  auto rows = set.rows();
  CHECK(rows[1].up);
  CHECK(rows[1].draining);
  CHECK_FALSE(set.apply({self_key, b_draining, c}, wall::now()).changed);  // read again

  // This node drains: off its own ring at once.
  CHECK(set.set_self_draining());
  CHECK_FALSE(set.set_self_draining());
  CHECK(set.self_draining());
  CHECK(set.build_ring()->nodes() == std::vector<uint16_t>{3});
  CHECK(set.rows()[0].draining);

  // nb restarted (a new key, a new instance): not draining.
  auto b2 = key_of(node(2, "nb"), 44, 9);
  r = set.apply({self_key, b2, c}, wall::now());
  CHECK(r.up == std::vector<uint16_t>{2});
  CHECK(set.build_ring()->nodes() == std::vector<uint16_t>{2, 3});
}
