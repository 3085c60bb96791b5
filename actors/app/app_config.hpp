// SPDX-License-Identifier: Apache-2.0
#pragma once
// The config keys of the dispatch node composition (gateway.*, identity.*, store.*) on top of
// the runtime's own keys, and the full schema heraldd loads. Built once at start-up.
// Invariant: app::full_schema() registers every key heraldd accepts.

#include "runtime/config/config.hpp"

namespace herald::app {

/// gateway.public_url, gateway.threads, gateway.flush_delay_us, gateway.heartbeat_interval_ms,
/// identity.secret,
/// identity.secret_file, store.sync. (gateway.listen is a node key: node_config.cpp.)
void register_config_keys(config::schema& s);

/// node::full_schema() plus register_config_keys().
config::schema full_schema();

}  // namespace herald::app
