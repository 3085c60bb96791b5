// SPDX-License-Identifier: Apache-2.0
#include "runtime/cluster/cluster_config.hpp"

#include <array>

#include "runtime/cluster/tls_files.hpp"
#include "runtime/config/validators.hpp"

namespace herald::cluster {

namespace {

using config::value_type;

/// Each entry HOST:PORT with a port other than 0 (a seed is dialled, not bound).
config::validator seed_list() {
  return [](const config::value& v) -> std::optional<std::string> {
    for (const auto& s : std::get<config::string_list>(v)) {
      auto ep = config::parse_endpoint(s);
      if (!ep || ep->port == 0) {
        return "expected HOST:PORT entries with a port other than 0, got \"" + s + "\"";
      }
    }
    return std::nullopt;
  };
}

/// The three mutual-TLS keys, in the order a partial set is reported.
constexpr std::array<const char*, 3> tls_keys{"cluster.tls_ca_file", "cluster.tls_cert_file",
                                              "cluster.tls_key_file"};

/// All three cluster.tls_* keys set (then their files must load), none (then a clustered node
/// needs cluster.allow_plaintext), or an error naming the first one missing.
std::optional<std::string> check_tls(const config::config& cfg) {
  size_t set = 0;
  for (auto key : tls_keys) {
    set += cfg.get_string(key).empty() ? 0 : 1;
  }
  if (set == tls_keys.size()) {
    return check_tls_files({cfg.get_string("cluster.tls_ca_file"),
                            cfg.get_string("cluster.tls_cert_file"),
                            cfg.get_string("cluster.tls_key_file")});
  }
  if (set > 0) {
    for (auto key : tls_keys) {
      if (cfg.get_string(key).empty()) {
        return std::string{key} +
               ": must be set with the other cluster.tls_* keys (mutual TLS needs "
               "cluster.tls_ca_file, cluster.tls_cert_file and cluster.tls_key_file)";
      }
    }
  }
  if (!cfg.get_list("cluster.seeds").empty() && !cfg.get_bool("cluster.allow_plaintext")) {
    return std::string{
        "cluster.allow_plaintext: a cluster (cluster.seeds set) needs mutual TLS "
        "(cluster.tls_ca_file, cluster.tls_cert_file, cluster.tls_key_file); plaintext only with "
        "cluster.allow_plaintext = true, for loopback tests and development"};
  }
  return std::nullopt;
}

}  // namespace

void register_config_keys(config::schema& s) {
  s.add({"cluster.node_id", value_type::integer,
         "This node's id in its cluster, unique among the nodes (0..1023): the worker bits of "
         "every snowflake the node mints (messages, users, guilds, channels, roles) and the top "
         "bits of its session ids. A node joining with an id already in use is refused.",
         "`0`", config::fixed(int64_t{0}), config::int_range(0, 1023)});
  s.add({"cluster.seeds", value_type::string_list,
         "cluster.listen addresses (`HOST:PORT`) of nodes to join (static membership). Empty: "
         "the node is not clustered and opens no cluster port. A node may list itself (it is "
         "skipped), so every node of a cluster can share one list. Needs store.backend = "
         "`postgres` and identity.secret_file.",
         "`[]`", config::fixed(config::string_list{}), seed_list()});
  s.add({"cluster.membership", value_type::string,
         "How nodes find each other: `static` (cluster.seeds). `etcd` is reserved for a later "
         "release and refused at start.",
         "`static`", config::fixed(std::string{"static"}), config::one_of({"static", "etcd"})});
  s.add({"cluster.heartbeat_interval_ms", value_type::integer,
         "How often a node sends its membership heartbeat to every peer (and CAF's transport "
         "its BASP heartbeat).",
         "`1000`", config::fixed(int64_t{1000}), config::int_range(10, 60000)});
  s.add({"cluster.failure_timeout_ms", value_type::integer,
         "A peer unheard (no membership heartbeat) for this long is declared down, although its "
         "connection may still be open (a frozen process); at least twice "
         "cluster.heartbeat_interval_ms.",
         "`5000`", config::fixed(int64_t{5000}), config::int_range(20, 600000)});
  s.add({"cluster.connection_timeout_ms", value_type::integer,
         "CAF's transport closes a peer connection that carried nothing (not even a BASP "
         "heartbeat) for this long.",
         "`15000`", config::fixed(int64_t{15000}), config::int_range(100, 3600000)});
  s.add({"cluster.vnodes", value_type::integer,
         "Points per node on the consistent-hash ring that places guilds on the nodes with the "
         "`guild` role (more: better balance, larger ring). Every node must use the same value.",
         "`256`", config::fixed(int64_t{256}), config::int_range(1, 4096)});
  s.add({"cluster.tls_ca_file", value_type::string,
         "PEM file of the cluster CA: with cluster.tls_cert_file and cluster.tls_key_file (all "
         "three or none) the cluster port and outgoing cluster connections use mutual TLS, and "
         "only peers with a certificate signed by this CA connect (docs/cluster.md, Mutual TLS).",
         "empty", config::fixed(std::string{}), nullptr});
  s.add({"cluster.tls_cert_file", value_type::string,
         "PEM certificate (chain) this node presents to its peers, signed by cluster.tls_ca_file.",
         "empty", config::fixed(std::string{}), nullptr});
  s.add({"cluster.tls_key_file", value_type::string,
         "PEM private key (unencrypted) of cluster.tls_cert_file.", "empty",
         config::fixed(std::string{}), nullptr});
  s.add({"cluster.allow_plaintext",
         value_type::boolean,
         "Allows a cluster (cluster.seeds set) without the cluster.tls_* keys: unauthenticated, "
         "unencrypted links anyone who reaches cluster.listen can join. For loopback tests and "
         "development only; without it such a node refuses to start.",
         "`false`",
         config::fixed(false),
         {}});
  s.add({"cluster.handshake_timeout_ms", value_type::integer,
         "An accepted cluster connection that has not completed its TLS handshake and sent its "
         "cluster handshake within this time is dropped (and counted in "
         "herald_cluster_connections_refused_total).",
         "`10000`", config::fixed(int64_t{10000}), config::int_range(100, 600000)});
}

settings settings_from(const config::config& cfg) {
  settings s;
  s.node_id = static_cast<uint16_t>(cfg.get_int("cluster.node_id"));
  s.name = cfg.get_string("node.name");
  s.listen = cfg.get_string("cluster.listen");
  s.seeds = cfg.get_list("cluster.seeds");
  s.roles = cfg.get_list("node.roles");
  s.heartbeat_interval = std::chrono::milliseconds{cfg.get_int("cluster.heartbeat_interval_ms")};
  s.failure_timeout = std::chrono::milliseconds{cfg.get_int("cluster.failure_timeout_ms")};
  s.connection_timeout = std::chrono::milliseconds{cfg.get_int("cluster.connection_timeout_ms")};
  s.vnodes = static_cast<uint32_t>(cfg.get_int("cluster.vnodes"));
  s.consistency.push_back({"cluster.vnodes", std::to_string(s.vnodes)});
  s.tls_ca_file = cfg.get_string("cluster.tls_ca_file");
  s.tls_cert_file = cfg.get_string("cluster.tls_cert_file");
  s.tls_key_file = cfg.get_string("cluster.tls_key_file");
  s.handshake_timeout = std::chrono::milliseconds{cfg.get_int("cluster.handshake_timeout_ms")};
  return s;
}

std::optional<std::string> check_config(const config::config& cfg) {
  if (!cfg.get_list("cluster.seeds").empty()) {
    auto ep = config::parse_endpoint(cfg.get_string("cluster.listen"));
    if (ep && ep->port == 0) {
      return std::string{
          "cluster.listen: port 0 is not allowed with cluster.seeds set (peers dial this "
          "address)"};
    }
  }
  if (cfg.get_string("cluster.membership") == "etcd") {
    return std::string{
        "cluster.membership: \"etcd\" is not supported by this release; use \"static\" with "
        "cluster.seeds"};
  }
  if (cfg.get_int("cluster.failure_timeout_ms") <
      2 * cfg.get_int("cluster.heartbeat_interval_ms")) {
    return "cluster.failure_timeout_ms: " +
           std::to_string(cfg.get_int("cluster.failure_timeout_ms")) +
           " must be at least twice cluster.heartbeat_interval_ms (" +
           std::to_string(cfg.get_int("cluster.heartbeat_interval_ms")) + ")";
  }
  return check_tls(cfg);
}

}  // namespace herald::cluster
