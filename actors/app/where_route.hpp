// SPDX-License-Identifier: Apache-2.0
#pragma once
// GET /v1/cluster/guilds/{id} on the admin API (what `heraldctl where guild ID` calls): which
// node owns the guild on this node's ring, and whether its guild actor is running there (asked
// of the owner through the dispatch router when it is another node). Mounted by heraldd's
// composition; the answer comes from a short-lived actor, never blocking the admin io thread.
//
// 200 {"guild_id":"…","owner_node":<name>,"owner_id":<node id>,"owner_address":<cluster.listen>,
//      "self":<owner is the node asked>,"alive":<guild actor running on the owner>,
//      "reachable":<the owner answered>,"ring_generation":<generation>,
//      "epoch":<owner epoch in the store>,"order":<last committed guild order>,
//      "epoch_node_id":<node whose claim set the epoch, null if never claimed>}
// `alive` is false when the owner did not answer within the timeout (`reachable` false then).
// The ring says who should own the guild; epoch and epoch_node_id say who does (the store's
// fence). When the store cannot be read, epoch, order and epoch_node_id are absent and
// `store_error` says why.
// Errors: 400 bad_request (id not a decimal snowflake), 503 unavailable (no guild node is up).

#include <chrono>
#include <memory>

#include "actors/services/services.hpp"
#include "runtime/cluster/cluster_view.hpp"
#include "runtime/net/http_server.hpp"

namespace herald::app {

/// `view` is this node's cluster view; `clustered` false: the node owns every guild.
void mount_where_route(net::http_server& server, dispatch::services_ptr svc,
                       std::shared_ptr<const cluster::cluster_view> view, bool clustered,
                       std::chrono::milliseconds timeout);

}  // namespace herald::app
