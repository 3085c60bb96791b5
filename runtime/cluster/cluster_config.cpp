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

/// Each entry http://HOST:PORT (etcd's JSON gateway; no TLS in this release).
config::validator etcd_endpoint_list() {
  return [](const config::value& v) -> std::optional<std::string> {
    for (const auto& s : std::get<config::string_list>(v)) {
      const std::string scheme = "http://";
      auto ep =
          s.rfind(scheme, 0) == 0 ? config::parse_endpoint(s.substr(scheme.size())) : std::nullopt;
      if (!ep || ep->port == 0) {
        return "expected http://HOST:PORT entries, got \"" + s + "\"";
      }
    }
    return std::nullopt;
  };
}

/// Starts and ends with '/': the node's key is the prefix and its decimal node id.
config::validator etcd_prefix() {
  return [](const config::value& v) -> std::optional<std::string> {
    const auto& s = std::get<std::string>(v);
    if (s.size() < 2 || s.front() != '/' || s.back() != '/') {
      return "expected a key prefix starting and ending with '/', got \"" + s + "\"";
    }
    return std::nullopt;
  };
}

/// The three mutual-TLS keys, in the order a partial set is reported.
constexpr std::array<const char*, 3> tls_keys{"cluster.tls_ca_file", "cluster.tls_cert_file",
                                              "cluster.tls_key_file"};

/// All three cluster.tls_* keys set (then their files must load), none (then a clustered node,
/// static or etcd, needs cluster.allow_plaintext), or an error naming the first one missing.
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
  const bool etcd = cfg.get_string("cluster.membership") == "etcd";
  if ((etcd || !cfg.get_list("cluster.seeds").empty()) &&
      !cfg.get_bool("cluster.allow_plaintext")) {
    return std::string{"cluster.allow_plaintext: a cluster ("} +
           (etcd ? "cluster.membership = \"etcd\"" : "cluster.seeds set") +
           ") needs mutual TLS (cluster.tls_ca_file, cluster.tls_cert_file, "
           "cluster.tls_key_file); plaintext only with cluster.allow_plaintext = true, for "
           "loopback tests and development";
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
         "How nodes find each other: `static` (cluster.seeds, join handshake and heartbeats) or "
         "`etcd` (each node registers under cluster.etcd_prefix with a lease; docs/cluster.md).",
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
  s.add({"cluster.etcd_endpoints", value_type::string_list,
         "etcd client URLs (`http://HOST:PORT`, etcd's v3 JSON gateway) for cluster.membership = "
         "`etcd`; tried in order, the next one when a request fails.",
         "`[]`", config::fixed(config::string_list{}), etcd_endpoint_list()});
  s.add({"cluster.etcd_prefix", value_type::string,
         "etcd key prefix of the cluster's members: each node registers under the prefix "
         "followed by its cluster.node_id. Nodes with the same prefix (and endpoints) form one "
         "cluster.",
         "`/herald/`", config::fixed(std::string{"/herald/"}), etcd_prefix()});
  s.add({"cluster.etcd_lease_ttl_s", value_type::integer,
         "TTL of a node's etcd lease; the node renews it every third of that. A node that cannot "
         "renew (crashed, frozen, cut off) loses its key at expiry and is down for the others.",
         "`5`", config::fixed(int64_t{5}), config::int_range(2, 600)});
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
         "Allows a cluster (cluster.seeds set, or cluster.membership = `etcd`) without the "
         "cluster.tls_* keys: unauthenticated, unencrypted links anyone who reaches "
         "cluster.listen can join. For loopback tests and development only; without it such a "
         "node refuses to start.",
         "`false`",
         config::fixed(false),
         {}});
  s.add({"cluster.handshake_timeout_ms", value_type::integer,
         "An accepted cluster connection that has not completed its TLS handshake and sent its "
         "cluster handshake within this time is dropped (and counted in "
         "herald_cluster_connections_refused_total).",
         "`10000`", config::fixed(int64_t{10000}), config::int_range(100, 600000)});
  s.add({"cluster.drain_window_ms", value_type::integer,
         "A drained node (`heraldctl drain`) tells its gateway sessions to reconnect (op 7) "
         "spread evenly over this window, so that clients do not all reconnect at once.",
         "`10000`", config::fixed(int64_t{10000}), config::int_range(0, 3600000)});
  s.add({"cluster.drain_detached_wait_ms", value_type::integer,
         "After the drain window, how long a draining node keeps the sessions it told to "
         "reconnect and that have not resumed on another node yet (each is taken over when its "
         "client resumes elsewhere). Then it closes those left (their clients must identify "
         "again) and counts the drain as done.",
         "`30000`", config::fixed(int64_t{30000}), config::int_range(0, 600000)});
  s.add({"cluster.leave_handoff_ms", value_type::integer,
         "A clustered node stopping on SIGTERM first leaves the guild ring and waits up to this "
         "long for its guilds to be handed off to the other nodes (0: no handoff; the guilds "
         "stop with the node and the others take them over by failover).",
         "`5000`", config::fixed(int64_t{5000}), config::int_range(0, 600000)});
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
  s.etcd = cfg.get_string("cluster.membership") == "etcd";
  s.etcd_endpoints = cfg.get_list("cluster.etcd_endpoints");
  s.etcd_prefix = cfg.get_string("cluster.etcd_prefix");
  s.etcd_lease_ttl = std::chrono::seconds{cfg.get_int("cluster.etcd_lease_ttl_s")};
  s.tls_ca_file = cfg.get_string("cluster.tls_ca_file");
  s.tls_cert_file = cfg.get_string("cluster.tls_cert_file");
  s.tls_key_file = cfg.get_string("cluster.tls_key_file");
  s.handshake_timeout = std::chrono::milliseconds{cfg.get_int("cluster.handshake_timeout_ms")};
  s.drain_window = std::chrono::milliseconds{cfg.get_int("cluster.drain_window_ms")};
  return s;
}

std::optional<std::string> check_config(const config::config& cfg) {
  const bool etcd = cfg.get_string("cluster.membership") == "etcd";
  if (etcd && cfg.get_list("cluster.etcd_endpoints").empty()) {
    return std::string{
        "cluster.etcd_endpoints: must list at least one http://HOST:PORT with "
        "cluster.membership = \"etcd\""};
  }
  if (etcd || !cfg.get_list("cluster.seeds").empty()) {
    auto ep = config::parse_endpoint(cfg.get_string("cluster.listen"));
    if (ep && ep->port == 0) {
      return std::string{etcd ? "cluster.listen: port 0 is not allowed with cluster.membership = "
                                "\"etcd\" (peers dial this address)"
                              : "cluster.listen: port 0 is not allowed with cluster.seeds set "
                                "(peers dial this address)"};
    }
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
