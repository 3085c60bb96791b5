// SPDX-License-Identifier: Apache-2.0
// The cluster's mutual-TLS keys: all three or none, their files checked at start, and a cluster
// without them (static or etcd membership) only with cluster.allow_plaintext.
#include <catch2/catch.hpp>

#include "runtime/cluster/cluster_config.hpp"
#include "runtime/cluster/tls_files.hpp"
#include "runtime/node/node_config.hpp"
#include "test/support/cluster_ca.hpp"
#include "test/support/test_ca.hpp"

using namespace herald;

namespace {

config::config load(const std::string& toml) {
  auto s = node::full_schema();
  cluster::register_config_keys(s);
  auto loaded = config::load_from_string(s, toml, "t");
  REQUIRE(loaded);
  return loaded.value();
}

std::string tls_toml(const testing::cluster_tls_files& f) {
  return "tls_ca_file = \"" + f.ca_file + "\"\ntls_cert_file = \"" + f.cert_file +
         "\"\ntls_key_file = \"" + f.key_file + "\"\n";
}

const std::string clustered = "[cluster]\nseeds = [\"127.0.0.1:4371\"]\n";

}  // namespace

TEST_CASE("a_partial_set_of_cluster_tls_keys_is_refused_naming_the_missing_key") {
  auto only_ca = load("[cluster]\ntls_ca_file = \"/x/ca.pem\"\n");
  CHECK(*cluster::check_config(only_ca) ==
        "cluster.tls_cert_file: must be set with the other cluster.tls_* keys (mutual TLS needs "
        "cluster.tls_ca_file, cluster.tls_cert_file and cluster.tls_key_file)");
  auto no_key = load(clustered + "tls_ca_file = \"/x/ca.pem\"\ntls_cert_file = \"/x/n.pem\"\n" +
                     "allow_plaintext = true\n");
  CHECK(cluster::check_config(no_key)->rfind("cluster.tls_key_file: must be set", 0) == 0);
  auto no_ca = load("[cluster]\ntls_cert_file = \"/x/n.pem\"\ntls_key_file = \"/x/n.key\"\n");
  CHECK(cluster::check_config(no_ca)->rfind("cluster.tls_ca_file: must be set", 0) == 0);
}

TEST_CASE("a_cluster_without_tls_keys_needs_allow_plaintext") {
  auto plain = load(clustered);
  CHECK(cluster::check_config(plain)->rfind(
            "cluster.allow_plaintext: a cluster (cluster.seeds set) needs mutual TLS", 0) == 0);
  CHECK_FALSE(cluster::check_config(load(clustered + "allow_plaintext = true\n")));
  CHECK_FALSE(cluster::check_config(load("")));  // not clustered: no cluster port at all
  // etcd membership opens the cluster port too: the same rule.
  const std::string etcd =
      "[cluster]\nmembership = \"etcd\"\nlisten = \"127.0.0.1:4370\"\netcd_endpoints = "
      "[\"http://127.0.0.1:2379\"]\n";
  CHECK(
      cluster::check_config(load(etcd))
          ->rfind(
              "cluster.allow_plaintext: a cluster (cluster.membership = \"etcd\") needs mutual TLS",
              0) == 0);
  CHECK_FALSE(cluster::check_config(load(etcd + "allow_plaintext = true\n")));
}

TEST_CASE("cluster_tls_files_are_checked_at_start_and_set_the_settings") {
  testing::cluster_ca ca;
  testing::cluster_ca other{"another CA"};
  auto na = ca.issue("na");
  auto good = load(clustered + tls_toml(na));
  CHECK_FALSE(cluster::check_config(good));
  auto s = cluster::settings_from(good);
  CHECK(s.tls());
  CHECK(s.tls_ca_file == na.ca_file);
  CHECK(s.tls_cert_file == na.cert_file);
  CHECK(s.tls_key_file == na.key_file);
  CHECK(s.handshake_timeout == std::chrono::milliseconds{10000});
  CHECK_FALSE(cluster::settings_from(load(clustered)).tls());

  // A certificate of another CA: this node's peers would refuse it.
  auto foreign = other.issue("nx");
  auto wrong_ca = cluster::check_tls_files({na.ca_file, foreign.cert_file, foreign.key_file});
  REQUIRE(wrong_ca);
  CHECK(wrong_ca->rfind("cluster.tls_cert_file: " + foreign.cert_file +
                            " is not signed by the CA in " + na.ca_file,
                        0) == 0);
  // Another node's key.
  auto nb = ca.issue("nb");
  auto wrong_key = cluster::check_tls_files({na.ca_file, na.cert_file, nb.key_file});
  REQUIRE(wrong_key);
  CHECK(wrong_key->rfind("cluster.tls_key_file: cannot load " + nb.key_file, 0) == 0);
  // A server-only certificate (extendedKeyUsage serverAuth): peers would refuse it as a client.
  testing::test_ca web_ca;
  auto server_only = web_ca.issue("localhost");
  CHECK(cluster::check_tls_files({web_ca.ca_file(), server_only.cert_file, server_only.key_file})
            ->rfind("cluster.tls_cert_file: " + server_only.cert_file +
                        " is not usable as both TLS server and client certificate",
                    0) == 0);
  // Missing files.
  CHECK(cluster::check_tls_files({"/nonexistent/ca.pem", na.cert_file, na.key_file})
            ->rfind("cluster.tls_ca_file: cannot load CA certificates from /nonexistent/ca.pem",
                    0) == 0);
  CHECK(cluster::check_tls_files({na.ca_file, "/nonexistent/n.pem", na.key_file})
            ->rfind("cluster.tls_cert_file: cannot load a certificate", 0) == 0);
  // Through check_config too.
  auto cfg = load(clustered + "tls_ca_file = \"" + na.ca_file + "\"\ntls_cert_file = \"" +
                  foreign.cert_file + "\"\ntls_key_file = \"" + foreign.key_file + "\"\n");
  CHECK(cluster::check_config(cfg)->rfind("cluster.tls_cert_file: ", 0) == 0);
}
