// SPDX-License-Identifier: Apache-2.0
// `heraldctl nodes`, `heraldctl ring` and `heraldctl cluster status`: the asked node's view of
// its cluster, from GET /v1/cluster/nodes and /v1/cluster/ring (runtime/cluster/cluster_view.hpp
// has the JSON) and /v1/cluster/status (actors/app/cluster_status.hpp).
// Text output is one line per node; --json prints the API's JSON unchanged, on one line.
#include <iomanip>
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include "tools/heraldctl/ctl.hpp"

namespace herald::ctl {

namespace {

using json = nlohmann::json;

std::string joined(const json& list) {
  std::string out;
  for (const auto& v : list) {
    out += (out.empty() ? "" : ",") + (v.is_string() ? v.get<std::string>() : v.dump());
  }
  return out.empty() ? "-" : out;
}

/// GET `target` and parse it; prints the one-line error and returns discarded JSON on failure.
json fetch(context& ctx, const std::string& target, json::value_t expected) {
  auto res = ctx.get(target);
  if (!res) {
    return json(json::value_t::discarded);
  }
  auto body = json::parse(res->body, nullptr, false);
  if (body.type() != expected) {
    ctx.fail("malformed answer from " + ctx.options().node + ": " +
             res->body.substr(0, res->body.find('\n')));
    return json(json::value_t::discarded);
  }
  return body;
}

int run_nodes(context& ctx) {
  auto nodes = fetch(ctx, "/v1/cluster/nodes", json::value_t::array);
  if (nodes.is_discarded()) {
    return exit_failure;
  }
  if (ctx.options().json) {
    ctx.out() << nodes.dump() << "\n";
    return exit_ok;
  }
  auto& out = ctx.out();
  out << std::left << std::setw(6) << "ID" << std::setw(16) << "NAME" << std::setw(22) << "ADDRESS"
      << std::setw(15) << "ROLES" << std::setw(12) << "INCARNATION" << std::setw(9) << "STATUS"
      << "SINCE\n";
  for (const auto& n : nodes) {
    std::string name = n.value("name", "");
    if (n.value("self", false)) {
      name += "*";
    }
    out << std::left << std::setw(6) << n.value("id", 0) << std::setw(16) << name << std::setw(22)
        << n.value("address", "") << std::setw(15) << joined(n.value("roles", json::array()))
        << std::setw(12) << n.value("incarnation", 0) << std::setw(9) << n.value("status", "")
        << n.value("since", "") << "\n";
  }
  return exit_ok;
}

int run_ring(context& ctx) {
  auto ring = fetch(ctx, "/v1/cluster/ring", json::value_t::object);
  if (ring.is_discarded()) {
    return exit_failure;
  }
  if (ctx.options().json) {
    ctx.out() << ring.dump() << "\n";
    return exit_ok;
  }
  auto& out = ctx.out();
  out << "generation=" << ring.value("generation", 0) << "\n";
  out << "vnodes=" << ring.value("vnodes", 0) << "\n";
  for (const auto& n : ring.value("nodes", json::array())) {
    out << "node=" << n.value("id", 0) << " name=" << n.value("name", "")
        << " points=" << n.value("points", 0) << "\n";
  }
  return exit_ok;
}

/// `heraldctl cluster status`: key=value lines, one `peer=` line per other member.
int run_status(context& ctx) {
  auto status = fetch(ctx, "/v1/cluster/status", json::value_t::object);
  if (status.is_discarded()) {
    return exit_failure;
  }
  if (ctx.options().json) {
    ctx.out() << status.dump() << "\n";
    return exit_ok;
  }
  auto& out = ctx.out();
  out << "node=" << status.value("node", "") << "\n";
  out << "node_id=" << status.value("node_id", 0) << "\n";
  out << "membership=" << status.value("membership", "") << "\n";
  out << "nodes_up=" << status.value("nodes_up", 0) << "\n";
  out << "nodes_total=" << status.value("nodes_total", 0) << "\n";
  out << "ring_generation=" << status.value("ring_generation", 0) << "\n";
  out << "guild_nodes=" << status.value("guild_nodes", 0) << "\n";
  for (const auto& p : status.value("peers", json::array())) {
    out << "peer=" << p.value("id", 0) << " name=" << p.value("name", "")
        << " status=" << p.value("status", "")
        << " connected=" << (p.value("connected", false) ? "true" : "false") << "\n";
  }
  auto routed = status.value("routed_publishes", json::object());
  out << "routed_publishes_local=" << routed.value("local", 0) << "\n";
  out << "routed_publishes_remote=" << routed.value("remote", 0) << "\n";
  for (const auto& r : status.value("reasons", json::array())) {
    out << "reason=" << (r.is_string() ? r.get<std::string>() : r.dump()) << "\n";
  }
  out << "verdict=" << status.value("verdict", "") << "\n";
  return exit_ok;
}

}  // namespace

void add_cluster_commands(command_table& table) {
  table.add("nodes",
            "Cluster members as this node sees them: id, name, address, roles, incarnation, "
            "up/down and since when (* marks the node asked)",
            run_nodes);
  table.add("ring", "This node's guild ring: its generation and the points (vnodes) per node",
            run_ring);
  auto* cluster = table.group("cluster", "The cluster as the asked node sees it");
  table.add("status",
            "This node's id and name, membership, nodes up/total, ring generation, its "
            "connections to peers, routed publishes and a verdict (ok | degraded)",
            run_status, cluster);
}

}  // namespace herald::ctl
