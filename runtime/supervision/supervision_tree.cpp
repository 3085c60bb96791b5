// SPDX-License-Identifier: Apache-2.0
#include "runtime/supervision/supervision_tree.hpp"

#include <algorithm>
#include <list>
#include <map>
#include <mutex>

#include <fmt/format.h>

namespace herald::supervision {

namespace {

struct tree_table {
  std::mutex mutex;
  std::list<detail::tree_entry> rows;  // list keeps row addresses stable
};

tree_table& table() {
  static auto* t = new tree_table;  // leaked: supervisors may exit during static destruction
  return *t;
}

struct kind_table {
  std::mutex mutex;
  std::map<std::string, metrics::gauge*> gauges;
};

kind_table& kinds() {
  static auto* t = new kind_table;
  return *t;
}

void render_children(const std::vector<supervisor_info>& all, const std::string& parent, int depth,
                     std::vector<bool>& done, std::string& out) {
  for (size_t i = 0; i < all.size(); ++i) {
    if (done[i] || all[i].parent != parent) {
      continue;
    }
    done[i] = true;
    out += fmt::format("{:{}}{} strategy={} children={} restarts={}\n", "", depth * 2, all[i].name,
                       all[i].strategy, all[i].children, all[i].restarts);
    if (depth < 32) {
      render_children(all, all[i].name, depth + 1, done, out);
    }
  }
}

}  // namespace

std::vector<supervisor_info> live_supervisors() {
  auto& t = table();
  std::lock_guard<std::mutex> guard{t.mutex};
  std::vector<supervisor_info> result;
  result.reserve(t.rows.size());
  for (auto& row : t.rows) {
    result.push_back(supervisor_info{row.name, row.parent, row.strategy,
                                     row.children.load(std::memory_order_relaxed),
                                     row.restarts.load(std::memory_order_relaxed)});
  }
  return result;
}

std::string render_supervision_tree() {
  auto all = live_supervisors();
  std::vector<bool> done(all.size(), false);
  std::string out;
  // Roots first; then any row whose parent is no longer listed.
  render_children(all, "", 0, done, out);
  for (size_t i = 0; i < all.size(); ++i) {
    if (!done[i]) {
      render_children(all, all[i].parent, 0, done, out);
    }
  }
  return out;
}

std::vector<kind_count> actors_alive_by_kind() {
  auto& k = kinds();
  std::lock_guard<std::mutex> guard{k.mutex};
  std::vector<kind_count> result;
  for (auto& [kind, g] : k.gauges) {
    result.push_back(kind_count{kind, g->value()});
  }
  return result;
}

metrics::gauge& alive_gauge(const std::string& kind) {
  auto& k = kinds();
  std::lock_guard<std::mutex> guard{k.mutex};
  auto i = k.gauges.find(kind);
  if (i != k.gauges.end()) {
    return *i->second;
  }
  auto& g = metrics::registry::global().get_gauge(
      "herald_actors_alive", "Actors currently alive, by kind.", {{"kind", kind}});
  k.gauges.emplace(kind, &g);
  return g;
}

void track_actor(const caf::actor& actor, metrics::gauge& alive) {
  if (!actor) {
    return;
  }
  alive.add(1);
  auto* g = &alive;
  actor->attach_functor([g] { g->sub(1); });
}

void track_actor(const caf::actor& actor, const std::string& kind) {
  track_actor(actor, alive_gauge(kind));
}

namespace detail {

tree_entry* register_supervisor(std::string name, std::string parent, std::string strategy) {
  auto& t = table();
  std::lock_guard<std::mutex> guard{t.mutex};
  auto& row = t.rows.emplace_back();
  row.name = std::move(name);
  row.parent = std::move(parent);
  row.strategy = std::move(strategy);
  return &row;
}

void unregister_supervisor(tree_entry* entry) {
  auto& t = table();
  std::lock_guard<std::mutex> guard{t.mutex};
  t.rows.remove_if([entry](const tree_entry& row) { return &row == entry; });
}

}  // namespace detail

}  // namespace herald::supervision
