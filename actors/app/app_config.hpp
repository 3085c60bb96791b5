// SPDX-License-Identifier: Apache-2.0
#pragma once
// The config keys of the dispatch node composition (gateway.*, identity.*, store.*) on top of
// the runtime's own keys, and the full schema heraldd loads. Built once at start-up.
// Invariant: app::full_schema() registers every key heraldd accepts.

#include <optional>
#include <string>
#include <vector>

#include "runtime/config/config.hpp"
#include "runtime/net/tls_context.hpp"

namespace herald::app {

/// gateway.tls_cert_file, gateway.tls_key_file, gateway.tls_min_version, gateway.public_url,
/// gateway.threads, gateway.flush_delay_us, gateway.heartbeat_interval_ms,
/// identity.secret,
/// identity.secret_file, store.sync, features.enabled (each entry one of `feature_names`,
/// the features this build links). (gateway.listen is a node key: node_config.cpp.)
void register_config_keys(config::schema& s, const std::vector<std::string>& feature_names = {});

/// The gateway listener's TLS files and version from a loaded config (key names for errors).
net::tls_options tls_options(const config::config& cfg);

/// Checks that span keys or files, after load: the cluster's (cluster::check_config; with
/// cluster.seeds set, store.backend must be postgres and identity.secret_file set), the TLS files
/// (both or neither set, readable, the key matches the certificate). One line naming the key, for
/// heraldd's exit code 2.
std::optional<std::string> check_config(const config::config& cfg);

/// node::full_schema(), cluster::register_config_keys() and register_config_keys().
config::schema full_schema(const std::vector<std::string>& feature_names = {});

}  // namespace herald::app
