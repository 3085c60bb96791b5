// SPDX-License-Identifier: Apache-2.0
// Real heraldd processes on loopback with mutual TLS between them (cluster.tls_* files from a
// throwaway cluster CA, made with the openssl CLI as docs/cluster.md says): two nodes see each
// other up; a node whose certificate comes from another CA is refused and counted; garbage on
// the TLS cluster port is dropped and counted and the node still answers /healthz; a partial set
// of the TLS keys, or a cluster without them and without cluster.allow_plaintext, refuses to
// start with one line naming the key.
#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <memory>
#include <set>

#include <nlohmann/json.hpp>

#include "runtime/net/http_client.hpp"
#include "test/integration/cluster/cluster_nodes.hpp"
#include "test/support/cluster_ca.hpp"
#include "test/support/eventually.hpp"
#include "test/support/postgres_server.hpp"
#include "test/support/process.hpp"
#include "test/support/temp_dir.hpp"

using namespace herald;
using namespace std::chrono_literals;
using namespace herald::cluster_test;

namespace {

std::string config_text(const node_spec& n, const std::vector<std::string>& seeds,
                        const std::string& pg_url, const std::string& secret_file,
                        const testing::cluster_tls_files& tls) {
  return node_config(n, static_membership_lines(seeds, 300ms, 3000ms) + tls_lines(tls), pg_url,
                     secret_file);
}

/// The (id, status) pairs of `heraldctl nodes --json` on `n`, as "1:up 2:up"; empty on failure.
std::string view_of(const node_spec& n) {
  auto nodes = nodes_json(n);
  std::set<std::pair<int, std::string>> rows;
  if (!nodes.is_array()) {
    return "";
  }
  for (const auto& x : nodes) {
    rows.insert({x.value("id", -1), x.value("status", "")});
  }
  std::string out;
  for (const auto& [id, status] : rows) {
    out += (out.empty() ? "" : " ") + std::to_string(id) + ":" + status;
  }
  return out;
}

}  // namespace

TEST_CASE("nodes_with_certificates_of_the_cluster_ca_join_and_others_are_refused_and_counted") {
  testing::temp_dir dir;
  testing::cluster_ca ca;
  testing::cluster_ca other{"another CA"};
  auto& pg = testing::shared_postgres_server();
  auto pg_url = pg.url(pg.create_database());
  auto secret = dir.write_file("cluster.secret", "a-cluster-secret-of-32-characters\n");
  std::vector<node_spec> nodes{{"na", 1}, {"nb", 2}};
  std::vector<std::string> seeds;
  for (auto& n : nodes) {
    n.data = dir.file("data-" + n.name);
    seeds.push_back(cluster_address(n));
  }
  std::vector<std::unique_ptr<testing::child_process>> procs;
  for (const auto& n : nodes) {
    auto cfg =
        dir.write_file(n.name + ".toml", config_text(n, seeds, pg_url, secret, ca.issue(n.name)));
    procs.push_back(std::make_unique<testing::child_process>(
        testing::bin_path("heraldd"), std::vector<std::string>{"--config", cfg}));
  }
  require_ready(nodes, procs);
  const std::string both = "1:up 2:up";
  for (const auto& n : nodes) {
    INFO("nodes --json on " << n.name);
    CHECK(testing::eventually([&] { return view_of(n) == both; }, 30s, testing::slow_poll_step));
  }
  auto refused_before = metric(nodes[0], "herald_cluster_connections_refused_total");
  REQUIRE(refused_before >= 0);

  // A node with a certificate of another CA (and trusting it): it cannot join, na counts it.
  node_spec rogue{"nx", 3};
  rogue.data = dir.file("data-nx");
  auto rogue_cfg = dir.write_file("nx.toml", config_text(rogue, {cluster_address(nodes[0])}, pg_url,
                                                         secret, other.issue("nx")));
  testing::child_process rogue_proc{testing::bin_path("heraldd"), {"--config", rogue_cfg}};
  {
    INFO("nx stderr: " << rogue_proc.err());
    CHECK(testing::eventually(
        [&] {
          return metric(nodes[0], "herald_cluster_connections_refused_total") > refused_before;
        },
        30s, testing::slow_poll_step));
    REQUIRE(testing::eventually([&] { return ready(rogue) || !rogue_proc.running(); }, 60s,
                                testing::slow_poll_step));
    CHECK(view_of(rogue) == "3:up");
  }
  // nx never entered the views, and the link between na and nb survived nx's failed
  // handshakes (it once dropped with every one, see runtime/cluster/tls_scribe.hpp).
  for (const auto& n : nodes) {
    INFO("nodes --json on " << n.name);
    CHECK(view_of(n) == both);
  }
  rogue_proc.send_signal(SIGTERM);
  CHECK(rogue_proc.wait_for(60s));

  // Garbage on the TLS cluster port: dropped, counted; the node answers and keeps its peer.
  auto before_garbage = metric(nodes[0], "herald_cluster_connections_refused_total");
  send_garbage(nodes[0].cluster);
  CHECK(testing::eventually(
      [&] { return metric(nodes[0], "herald_cluster_connections_refused_total") > before_garbage; },
      10s));
  CHECK(live(nodes[0]));
  CHECK(
      testing::eventually([&] { return view_of(nodes[0]) == both; }, 20s, testing::slow_poll_step));

  stop_cleanly(nodes, procs);
}

TEST_CASE("a_partial_tls_key_set_or_a_plaintext_cluster_without_allow_plaintext_refuses_to_start") {
  testing::temp_dir dir;
  testing::cluster_ca ca;
  auto files = ca.issue("na");
  auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> args{
        "--cluster.seeds",        "127.0.0.1:4999",
        "--store.backend",        "postgres",
        "--store.postgres_url",   "postgresql://x@127.0.0.1/x",
        "--identity.secret_file", dir.write_file("s", "a-cluster-secret-of-32-characters\n"),
        "--node.data_dir",        dir.file("d")};
    args.insert(args.end(), extra.begin(), extra.end());
    return testing::run_process(testing::bin_path("heraldd"), args, 30s);
  };
  auto partial =
      run({"--cluster.tls_ca_file", files.ca_file, "--cluster.tls_cert_file", files.cert_file});
  CHECK(partial.exit_code == 2);
  CHECK(partial.err.find("heraldd: config error: cluster.tls_key_file: must be set with the other "
                         "cluster.tls_* keys") == 0);
  auto plaintext = run({});
  CHECK(plaintext.exit_code == 2);
  CHECK(plaintext.err.find("heraldd: config error: cluster.allow_plaintext: a cluster "
                           "(cluster.seeds set) needs mutual TLS") == 0);
  auto wrong_key = run({"--cluster.tls_ca_file", files.ca_file, "--cluster.tls_cert_file",
                        files.cert_file, "--cluster.tls_key_file", ca.issue("nb").key_file});
  CHECK(wrong_key.exit_code == 2);
  CHECK(wrong_key.err.find("heraldd: config error: cluster.tls_key_file: cannot load ") == 0);
}
