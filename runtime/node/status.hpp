// SPDX-License-Identifier: Apache-2.0
#pragma once
// The node status document served at GET /v1/status and printed by `heraldctl status`
// (mirrors proto/runtime.proto node_status). Plain values; built on the admin HTTP thread.
// Invariant: to_json and from_json round-trip every field.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace herald::node {

struct supervisor_summary {
  std::string name;
  std::string parent;    ///< "" for a root supervisor
  std::string strategy;  ///< one_for_one | one_for_all | rest_for_one | ...
  uint64_t children = 0;
  uint64_t restarts = 0;
};

struct node_status {
  std::string node;
  std::string version;
  double uptime_s = 0;
  std::map<std::string, uint64_t> actors_by_kind;
  std::vector<supervisor_summary> supervisors;
  /// Refusals by abuse limit (metrics/limit_refusals.hpp): `rest_global`, `identify_rate`, …
  std::map<std::string, uint64_t> limit_refusals;
};

/// {"node","version","uptime_s","actors_by_kind":{…},"supervisors":[{name,parent,strategy,children,restarts}],
///  "limit_refusals":{…}} (limit_refusals is optional when parsed: older nodes lack it)
std::string to_json(const node_status& s);

/// Parses to_json's output; nullopt names no field, so callers report "malformed status".
std::optional<node_status> status_from_json(const std::string& text, std::string* error = nullptr);

/// Human-friendly multi-line text (node, version, uptime, actors by kind, supervision tree,
/// then `refused:` and one `  <limit> <count>` line per abuse limit).
std::string render_text(const node_status& s);

/// "3d 4h 5m 6s" style duration for uptime.
std::string format_uptime(double seconds);

}  // namespace herald::node
