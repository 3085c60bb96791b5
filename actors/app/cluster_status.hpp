// SPDX-License-Identifier: Apache-2.0
#pragma once
// GET /v1/cluster/status on the admin API (what `heraldctl cluster status` calls): one node's
// summary of its cluster for an operator: who it is, its membership kind, members up of known,
// its ring's generation, whether it holds a connection to each peer, its routed publishes and a
// one-word verdict. Built from this node's view alone (no request to another node), so it answers
// at once even when peers are frozen.
//
// 200 {"node_id":…,"node":<name>,"membership":"static"|"etcd"|"none","nodes_up":…,
//      "nodes_total":…,"ring_generation":…,"guild_nodes":…,
//      "peers":[{"id":…,"name":…,"status":"up"|"down","connected":bool}, …],
//      "routed_publishes":{"local":…,"remote":…},"verdict":"ok"|"degraded","reasons":[…]}
// `connected`: this node holds a cluster link to the peer (static membership's actor, or etcd
// membership's link actor; the connection routing, relays and revoke notices use).
// Verdict `degraded` when a member is down, an up peer is not connected, or no node with the
// guild role is up (guilds have no owner); `reasons` says which, one line each.

#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/cluster/cluster_view.hpp"
#include "runtime/net/http_server.hpp"

namespace herald::app {

/// cluster.membership as the status shows it; `none` for an unclustered node.
enum class membership_kind { none, static_seeds, etcd };

/// What the status is computed from (a snapshot; plain values so it can be tested alone).
struct cluster_status_input {
  membership_kind membership = membership_kind::none;
  std::vector<cluster::node_row> rows;
  uint64_t ring_generation = 0;
  size_t guild_nodes = 0;        ///< nodes on the ring (up, with the guild role)
  std::set<uint16_t> connected;  ///< peers this node holds a cluster connection to
  uint64_t routed_local = 0;     ///< herald_routed_publishes_total{where="local"}
  uint64_t routed_remote = 0;    ///< herald_routed_publishes_total{where="remote"}
};

/// The route's JSON body (see the file comment).
nlohmann::json cluster_status_json(const cluster_status_input& in);

/// Mounts GET /v1/cluster/status. `view` is this node's cluster view.
void mount_cluster_status_route(net::http_server& server,
                                std::shared_ptr<const cluster::cluster_view> view,
                                membership_kind membership);

}  // namespace herald::app
