// SPDX-License-Identifier: Apache-2.0
#include "runtime/cluster/cluster_view.hpp"

#include <ctime>

#include <caf/actor_cast.hpp>
#include <caf/send.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace herald::cluster {

using json = nlohmann::json;

cluster_view::cluster_view(node_row self)
    : rows_{std::move(self)}, ring_(std::make_shared<const ring>()) {}

void cluster_view::publish(std::vector<node_row> rows, std::shared_ptr<const ring> r) {
  std::vector<caf::actor_addr> watchers;
  {
    std::lock_guard<std::mutex> lock{mutex_};
    rows_ = std::move(rows);
    ring_ = std::move(r);
    watchers = watchers_;
  }
  for (const auto& addr : watchers) {
    if (auto w = caf::actor_cast<caf::actor>(addr)) {
      caf::anon_send(w, view_changed_atom::value);
    }
  }
}

void cluster_view::watch(const caf::actor& watcher) const {
  std::lock_guard<std::mutex> lock{mutex_};
  watchers_.push_back(watcher.address());
}

std::vector<node_row> cluster_view::nodes() const {
  std::lock_guard<std::mutex> lock{mutex_};
  return rows_;
}

std::shared_ptr<const ring> cluster_view::current_ring() const {
  std::lock_guard<std::mutex> lock{mutex_};
  return ring_;
}

std::optional<node_row> cluster_view::where(uint64_t guild_id) const {
  std::lock_guard<std::mutex> lock{mutex_};
  auto owner = ring_->owner(guild_id);
  if (!owner) {
    return std::nullopt;
  }
  for (const auto& row : rows_) {
    if (row.id == *owner) {
      return row;
    }
  }
  return std::nullopt;
}

caf::actor cluster_view::peer(uint16_t node_id) const {
  std::lock_guard<std::mutex> lock{mutex_};
  auto it = peers_.find(node_id);
  return it == peers_.end() ? caf::actor{} : it->second;
}

void cluster_view::set_peers(std::map<uint16_t, caf::actor> peers) {
  std::lock_guard<std::mutex> lock{mutex_};
  peers_ = std::move(peers);
}

size_t cluster_view::up_count() const {
  std::lock_guard<std::mutex> lock{mutex_};
  size_t n = 0;
  for (const auto& row : rows_) {
    n += row.up ? 1 : 0;
  }
  return n;
}

std::string cluster_view::nodes_json() const {
  json out = json::array();
  for (const auto& row : nodes()) {
    out.push_back({{"id", row.id},
                   {"name", row.name},
                   {"address", row.address},
                   {"roles", row.roles},
                   {"incarnation", row.incarnation},
                   {"status", !row.up        ? "down"
                              : row.draining ? "draining"
                                             : "up"},
                   {"draining", row.draining},
                   {"since", format_utc_ms(row.since_unix_ms)},
                   {"self", row.self}});
  }
  return out.dump();
}

std::string cluster_view::ring_json() const {
  auto r = current_ring();
  auto rows = nodes();
  json nodes = json::array();
  for (const auto& [id, points] : r->points_per_node()) {
    std::string name;
    for (const auto& row : rows) {
      if (row.id == id) {
        name = row.name;
      }
    }
    nodes.push_back({{"id", id}, {"name", name}, {"points", points}});
  }
  json out = {{"generation", r->generation()}, {"vnodes", r->vnodes()}, {"nodes", nodes}};
  return out.dump();
}

std::string format_utc_ms(int64_t unix_ms) {
  std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, unix_ms % 1000);
}

}  // namespace herald::cluster
