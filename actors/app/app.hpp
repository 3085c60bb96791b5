// SPDX-License-Identifier: Apache-2.0
#pragma once
// The dispatch node as heraldd runs it: the runtime node plus the embedded store, the token
// authority, the dispatch services, the front door (REST + gateway WebSocket on
// gateway.listen) and the admin control routes. Built on heraldd's main thread; the pieces
// run on the node's scheduler and the listeners' io threads.
// Invariant: the node reports ready only once every piece started; on SIGTERM it drains
// (REST 503 + Retry-After, gateway op 7 then close) before the supervision tree stops.

#include <vector>

#include "actors/feature/feature_module.hpp"
#include "runtime/config/config.hpp"
#include "runtime/node/node.hpp"

namespace herald::app {

/// Node options whose hooks start and stop the dispatch node for `cfg` (a config loaded
/// with app::full_schema(feature::names_of(features))). Start order: secret, store
/// (<node.data_dir>/herald.db), dispatch services, the features of `features` named in
/// features.enabled, front door (core routes, then the features' routes); admin control
/// routes are mounted beside /v1/status. Stop order: draining on, gateway drain, front door
/// stop, features stop, dispatch services stop.
node::node_options make_node_options(const config::config& cfg,
                                     std::vector<feature::feature_module> features = {});

/// heraldd's body: node::run_node(cfg, make_node_options(cfg, features)); returns the exit
/// code.
int run(const config::config& cfg, std::vector<feature::feature_module> features = {});

}  // namespace herald::app
