// SPDX-License-Identifier: Apache-2.0
#pragma once
// The cluster's config keys (cluster.* beside cluster.listen, which node_config.cpp registers)
// and the settings the cluster component runs with. Read once at start-up on the main thread;
// immutable afterwards, so any thread may read a settings object.
// Invariant: a node is clustered exactly when cluster.seeds is not empty or cluster.membership
// is "etcd"; an unclustered node loads no CAF io module and opens no cluster port.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runtime/config/config.hpp"

namespace herald::cluster {

/// The membership protocol's version: a node refuses a join from another version.
inline constexpr uint32_t protocol_version = 1;

/// A value every node of a cluster must agree on, compared at join: `key` names the config key
/// the error line blames (identity.secret_file), `value` is a fingerprint, never a secret.
struct consistency_item {
  std::string key;
  std::string value;
};

struct settings {
  uint16_t node_id = 0;                                 ///< cluster.node_id
  std::string name;                                     ///< node.name
  std::string listen = "127.0.0.1:0";                   ///< cluster.listen (port 0: any free port)
  std::vector<std::string> seeds;                       ///< cluster.seeds, "host:port" each
  std::vector<std::string> roles;                       ///< node.roles
  std::chrono::milliseconds heartbeat_interval{1000};   ///< cluster.heartbeat_interval_ms
  std::chrono::milliseconds failure_timeout{5000};      ///< cluster.failure_timeout_ms
  std::chrono::milliseconds connection_timeout{15000};  ///< cluster.connection_timeout_ms
  uint32_t vnodes = 256;                                ///< cluster.vnodes
  /// Mutual TLS (docs/cluster.md#mutual-tls): all three set, or none (check_config refuses a
  /// partial set). PEM files, read again for every new cluster connection.
  std::string tls_ca_file;    ///< cluster.tls_ca_file: the cluster CA, the only CA trusted
  std::string tls_cert_file;  ///< cluster.tls_cert_file: this node's certificate (chain)
  std::string tls_key_file;   ///< cluster.tls_key_file: its private key, unencrypted
  /// cluster.handshake_timeout_ms: an accepted cluster connection that has not completed its
  /// TLS handshake and sent its BASP handshake header by then is dropped and counted.
  std::chrono::milliseconds handshake_timeout{10000};
  /// cluster.drain_window_ms: a drain tells the gateway sessions to reconnect spread over it.
  std::chrono::milliseconds drain_window{10000};
  /// Checked at join (the app adds identity.secret_file's fingerprint).
  std::vector<consistency_item> consistency;
  /// protocol_version; only tests set another.
  uint32_t protocol = protocol_version;
  /// cluster.membership: false = static (seeds), true = etcd (etcd_membership.hpp).
  bool etcd = false;
  std::vector<std::string> etcd_endpoints;  ///< cluster.etcd_endpoints, "http://HOST:PORT"
  std::string etcd_prefix = "/herald/";     ///< cluster.etcd_prefix
  std::chrono::seconds etcd_lease_ttl{5};   ///< cluster.etcd_lease_ttl_s

  bool clustered() const noexcept { return etcd || !seeds.empty(); }
  /// The cluster port and outgoing cluster connections use mutual TLS.
  bool tls() const noexcept { return !tls_ca_file.empty(); }
};

/// cluster.node_id, cluster.seeds, cluster.membership, cluster.heartbeat_interval_ms,
/// cluster.failure_timeout_ms, cluster.connection_timeout_ms, cluster.vnodes,
/// cluster.etcd_endpoints, cluster.etcd_prefix, cluster.etcd_lease_ttl_s, cluster.tls_ca_file,
/// cluster.tls_cert_file, cluster.tls_key_file, cluster.allow_plaintext,
/// cluster.handshake_timeout_ms, cluster.drain_window_ms, cluster.drain_detached_wait_ms,
/// cluster.leave_handoff_ms.
void register_config_keys(config::schema& s);

/// The settings of a config loaded with a schema holding register_config_keys() and the node's
/// keys (node.name, node.roles, cluster.listen).
settings settings_from(const config::config& cfg);

/// Checks across keys, after load: cluster.membership = "etcd" without cluster.etcd_endpoints,
/// a cluster.listen port 0 on a clustered node,
/// cluster.failure_timeout_ms at least twice cluster.heartbeat_interval_ms, the cluster.tls_*
/// keys all set or none, their files loadable and consistent (check_tls_files), and a clustered
/// node (seeds or etcd) without them only with cluster.allow_plaintext = true. One line naming the
/// key, for heraldd's exit code 2.
std::optional<std::string> check_config(const config::config& cfg);

}  // namespace herald::cluster
