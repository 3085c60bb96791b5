// SPDX-License-Identifier: Apache-2.0
#include "runtime/node/status.hpp"

#include <cmath>
#include <functional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace herald::node {

using json = nlohmann::json;

std::string to_json(const node_status& s) {
  json sups = json::array();
  for (const auto& sup : s.supervisors) {
    sups.push_back({{"name", sup.name},
                    {"parent", sup.parent},
                    {"strategy", sup.strategy},
                    {"children", sup.children},
                    {"restarts", sup.restarts}});
  }
  json j = {{"node", s.node},         {"version", s.version},
            {"uptime_s", s.uptime_s}, {"actors_by_kind", s.actors_by_kind},
            {"supervisors", sups},    {"limit_refusals", s.limit_refusals}};
  return j.dump();
}

std::optional<node_status> status_from_json(const std::string& text, std::string* error) {
  try {
    auto j = json::parse(text);
    node_status s;
    s.node = j.at("node").get<std::string>();
    s.version = j.at("version").get<std::string>();
    s.uptime_s = j.at("uptime_s").get<double>();
    s.actors_by_kind = j.at("actors_by_kind").get<std::map<std::string, uint64_t>>();
    for (const auto& sup : j.at("supervisors")) {
      s.supervisors.push_back(
          {sup.at("name").get<std::string>(), sup.at("parent").get<std::string>(),
           sup.at("strategy").get<std::string>(), sup.at("children").get<uint64_t>(),
           sup.at("restarts").get<uint64_t>()});
    }
    if (auto it = j.find("limit_refusals"); it != j.end()) {
      s.limit_refusals = it->get<std::map<std::string, uint64_t>>();
    }
    return s;
  } catch (const json::exception& e) {
    if (error != nullptr) {
      *error = e.what();
    }
    return std::nullopt;
  }
}

std::string format_uptime(double seconds) {
  auto total = static_cast<uint64_t>(std::max(0.0, std::floor(seconds)));
  uint64_t d = total / 86400;
  uint64_t h = total / 3600 % 24;
  uint64_t m = total / 60 % 60;
  uint64_t sec = total % 60;
  if (d > 0) {
    return fmt::format("{}d {}h {}m {}s", d, h, m, sec);
  }
  if (h > 0) {
    return fmt::format("{}h {}m {}s", h, m, sec);
  }
  if (m > 0) {
    return fmt::format("{}m {}s", m, sec);
  }
  return fmt::format("{}s", sec);
}

namespace {

// Prints the supervision tree indented under each parent, roots first.
void render_tree(const std::vector<supervisor_summary>& sups, const std::string& parent, int depth,
                 std::string& out) {
  if (depth > 32) {
    return;
  }
  for (const auto& s : sups) {
    if (s.parent != parent || s.name == parent) {
      continue;
    }
    out += fmt::format("  {:<{}}{}  {}  children={}  restarts={}\n", "", depth * 2, s.name,
                       s.strategy, s.children, s.restarts);
    render_tree(sups, s.name, depth + 1, out);
  }
}

}  // namespace

std::string render_text(const node_status& s) {
  std::string out;
  out += fmt::format("node:     {}\n", s.node);
  out += fmt::format("version:  {}\n", s.version);
  out += fmt::format("uptime:   {}\n", format_uptime(s.uptime_s));
  uint64_t total = 0;
  for (const auto& [kind, n] : s.actors_by_kind) {
    total += n;
  }
  out += fmt::format("actors:   {}\n", total);
  for (const auto& [kind, n] : s.actors_by_kind) {
    out += fmt::format("  {:<20} {}\n", kind, n);
  }
  out += fmt::format("supervisors: {}\n", s.supervisors.size());
  // Roots are supervisors whose parent is not itself a listed supervisor.
  std::vector<supervisor_summary> rooted = s.supervisors;
  for (auto& sup : rooted) {
    bool parent_listed = false;
    for (const auto& other : s.supervisors) {
      parent_listed = parent_listed || other.name == sup.parent;
    }
    if (!parent_listed) {
      sup.parent.clear();
    }
  }
  render_tree(rooted, "", 0, out);
  if (!s.limit_refusals.empty()) {
    uint64_t refused = 0;
    for (const auto& [limit, n] : s.limit_refusals) {
      refused += n;
    }
    out += fmt::format("refused:  {}\n", refused);
    for (const auto& [limit, n] : s.limit_refusals) {
      out += fmt::format("  {:<20} {}\n", limit, n);
    }
  }
  return out;
}

}  // namespace herald::node
