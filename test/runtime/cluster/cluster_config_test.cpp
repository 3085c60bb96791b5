// SPDX-License-Identifier: Apache-2.0
// The cluster's config keys: validation per key, the checks across keys, the settings.
#include <catch2/catch.hpp>

#include "runtime/cluster/cluster_config.hpp"
#include "runtime/node/node_config.hpp"

using namespace herald;

namespace {

config::schema cluster_schema() {
  auto s = node::full_schema();
  cluster::register_config_keys(s);
  return s;
}

config::load_result load(const std::string& toml) {
  return config::load_from_string(cluster_schema(), toml, "t");
}

}  // namespace

TEST_CASE("cluster_keys_are_validated_one_line_naming_the_key") {
  CHECK(load("[cluster]\nnode_id = 1024\n").err().to_string().rfind("cluster.node_id: ", 0) == 0);
  CHECK(load("[cluster]\nseeds = [\"nohost\"]\n").err().to_string() ==
        "cluster.seeds: expected HOST:PORT entries with a port other than 0, got \"nohost\"");
  CHECK(load("[cluster]\nseeds = [\"127.0.0.1:0\"]\n")
            .err()
            .to_string()
            .rfind("cluster.seeds: ", 0) == 0);
  CHECK(
      load("[cluster]\nmembership = \"zk\"\n").err().to_string().rfind("cluster.membership: ", 0) ==
      0);
}

TEST_CASE("cluster_checks_across_keys_refuse_etcd_without_endpoints_a_short_timeout_and_port_0") {
  auto etcd = load("[cluster]\nmembership = \"etcd\"\n");
  REQUIRE(etcd);
  CHECK(*cluster::check_config(etcd.value()) ==
        "cluster.etcd_endpoints: must list at least one http://HOST:PORT with cluster.membership "
        "= \"etcd\"");
  auto etcd_port0 = load(
      "[cluster]\nmembership = \"etcd\"\netcd_endpoints = [\"http://127.0.0.1:2379\"]\nlisten = "
      "\"127.0.0.1:0\"\n");
  REQUIRE(etcd_port0);
  CHECK(cluster::check_config(etcd_port0.value())
            ->rfind("cluster.listen: port 0 is not allowed with cluster.membership", 0) == 0);
  auto short_timeout = load("[cluster]\nheartbeat_interval_ms = 1000\nfailure_timeout_ms = 1500\n");
  REQUIRE(short_timeout);
  CHECK(*cluster::check_config(short_timeout.value()) ==
        "cluster.failure_timeout_ms: 1500 must be at least twice cluster.heartbeat_interval_ms "
        "(1000)");
  auto port0 = load("[cluster]\nlisten = \"127.0.0.1:0\"\nseeds = [\"127.0.0.1:4371\"]\n");
  REQUIRE(port0);
  CHECK(cluster::check_config(port0.value())->rfind("cluster.listen: port 0 is not allowed", 0) ==
        0);
  auto unclustered = load("[cluster]\nlisten = \"127.0.0.1:0\"\n");
  REQUIRE(unclustered);
  CHECK_FALSE(cluster::check_config(unclustered.value()));
}

TEST_CASE("cluster_settings_follow_the_config_and_a_node_without_seeds_is_not_clustered") {
  auto loaded = load(
      "[node]\nname = \"na\"\nroles = [\"guild\"]\n[cluster]\nnode_id = 7\nlisten = "
      "\"127.0.0.1:4370\"\nseeds = [\"127.0.0.1:4370\", \"127.0.0.1:4371\"]\nvnodes = 64\n");
  REQUIRE(loaded);
  auto s = cluster::settings_from(loaded.value());
  CHECK(s.clustered());
  CHECK(s.node_id == 7);
  CHECK(s.name == "na");
  CHECK(s.roles == std::vector<std::string>{"guild"});
  CHECK(s.vnodes == 64);
  CHECK(s.heartbeat_interval == std::chrono::milliseconds{1000});
  CHECK(s.failure_timeout == std::chrono::milliseconds{5000});
  REQUIRE(s.consistency.size() == 1);
  CHECK(s.consistency[0].key == "cluster.vnodes");
  auto defaults = load("");
  REQUIRE(defaults);
  CHECK_FALSE(cluster::settings_from(defaults.value()).clustered());
}

TEST_CASE("etcd_keys_are_validated_and_make_a_node_clustered_without_seeds") {
  CHECK(load("[cluster]\netcd_endpoints = [\"127.0.0.1:2379\"]\n").err().to_string() ==
        "cluster.etcd_endpoints: expected http://HOST:PORT entries, got \"127.0.0.1:2379\"");
  CHECK(load("[cluster]\netcd_endpoints = [\"https://127.0.0.1:2379\"]\n")
            .err()
            .to_string()
            .rfind("cluster.etcd_endpoints: ", 0) == 0);
  CHECK(load("[cluster]\netcd_prefix = \"herald\"\n").err().to_string() ==
        "cluster.etcd_prefix: expected a key prefix starting and ending with '/', got \"herald\"");
  CHECK(load("[cluster]\netcd_lease_ttl_s = 1\n")
            .err()
            .to_string()
            .rfind("cluster.etcd_lease_ttl_s: ", 0) == 0);
  auto loaded = load(
      "[cluster]\nmembership = \"etcd\"\nlisten = \"127.0.0.1:4370\"\netcd_endpoints = "
      "[\"http://127.0.0.1:2379\", \"http://127.0.0.1:22379\"]\netcd_prefix = \"/c1/\"\n"
      "etcd_lease_ttl_s = 3\nallow_plaintext = true\n");
  REQUIRE(loaded);
  CHECK_FALSE(cluster::check_config(loaded.value()));
  auto s = cluster::settings_from(loaded.value());
  CHECK(s.clustered());
  CHECK(s.etcd);
  CHECK(s.seeds.empty());
  CHECK(s.etcd_endpoints ==
        std::vector<std::string>{"http://127.0.0.1:2379", "http://127.0.0.1:22379"});
  CHECK(s.etcd_prefix == "/c1/");
  CHECK(s.etcd_lease_ttl == std::chrono::seconds{3});
  auto defaults = cluster::settings_from(load("").value());
  CHECK_FALSE(defaults.etcd);
  CHECK(defaults.etcd_prefix == "/herald/");
  CHECK(defaults.etcd_lease_ttl == std::chrono::seconds{5});
}
