// SPDX-License-Identifier: Apache-2.0
#pragma once
// The config keys of a node (node.*, admin.*, gateway.*, cluster.*, runtime.*) and the
// full schema heraldd loads. Built once at start-up on the main thread.
// Invariant: full_schema() registers every key a node reads; later modules add theirs here.

#include "runtime/config/config.hpp"

namespace herald::node {

/// The node's own keys: node.name, node.data_dir, node.roles, admin.listen, admin.token_file,
/// admin.require_token, admin.allow_insecure, admin.allowed_hosts, admin.open_endpoints,
/// gateway.listen, cluster.listen, runtime.scheduler_threads, runtime.shutdown_timeout_ms.
void register_config_keys(config::schema& s);

/// Every key heraldd accepts, in documentation order. A module that adds keys
/// registers them here with one call (e.g. `gateway::register_config_keys(s)`).
config::schema full_schema();

/// The machine's hostname, the default of node.name ("herald" if it has none).
std::string default_node_name();

}  // namespace herald::node
