// SPDX-License-Identifier: Apache-2.0
#include "actors/app/cluster_status.hpp"

#include <utility>

#include "actors/dispatch/router.hpp"

namespace herald::app {

namespace {

using json = nlohmann::json;

const char* membership_name(membership_kind k) {
  switch (k) {
    case membership_kind::static_seeds:
      return "static";
    case membership_kind::etcd:
      return "etcd";
    case membership_kind::none:
      break;
  }
  return "none";
}

}  // namespace

json cluster_status_json(const cluster_status_input& in) {
  json body{{"membership", membership_name(in.membership)},
            {"ring_generation", in.ring_generation},
            {"guild_nodes", in.guild_nodes},
            {"routed_publishes", {{"local", in.routed_local}, {"remote", in.routed_remote}}}};
  json peers = json::array();
  json reasons = json::array();
  size_t up = 0;
  for (const auto& row : in.rows) {
    up += row.up ? 1 : 0;
    if (row.self) {
      body["node_id"] = row.id;
      body["node"] = row.name;
      continue;
    }
    bool connected = in.connected.count(row.id) != 0;
    peers.push_back({{"id", row.id},
                     {"name", row.name},
                     {"status", row.up ? "up" : "down"},
                     {"connected", connected}});
    if (!row.up) {
      reasons.push_back("node " + row.name + " (id " + std::to_string(row.id) + ") is down");
    } else if (!connected) {
      reasons.push_back("node " + row.name + " (id " + std::to_string(row.id) +
                        ") is up but not connected to this node");
    }
  }
  if (in.guild_nodes == 0) {
    reasons.push_back("no node with the guild role is up: guilds have no owner");
  }
  body["nodes_up"] = up;
  body["nodes_total"] = in.rows.size();
  body["peers"] = std::move(peers);
  body["verdict"] = reasons.empty() ? "ok" : "degraded";
  body["reasons"] = std::move(reasons);
  return body;
}

void mount_cluster_status_route(net::http_server& server,
                                std::shared_ptr<const cluster::cluster_view> view,
                                membership_kind membership) {
  server.route("GET", "/v1/cluster/status", [view, membership](const net::http_request&) {
    cluster_status_input in;
    in.membership = membership;
    in.rows = view->nodes();
    auto ring = view->current_ring();
    in.ring_generation = ring->generation();
    in.guild_nodes = ring->nodes().size();
    if (membership == membership_kind::none) {
      in.guild_nodes = 1;  // an unclustered node owns every guild (its ring is empty)
    }
    for (const auto& row : in.rows) {
      if (!row.self && view->peer(row.id)) {
        in.connected.insert(row.id);
      }
    }
    in.routed_local = dispatch::routed_publishes(false).value();
    in.routed_remote = dispatch::routed_publishes(true).value();
    return net::http_response{
        200, "application/json", cluster_status_json(in).dump(), {{"Cache-Control", "no-store"}}};
  });
}

}  // namespace herald::app
