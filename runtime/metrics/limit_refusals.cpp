// SPDX-License-Identifier: Apache-2.0
#include "runtime/metrics/limit_refusals.hpp"

#include <mutex>

namespace herald::metrics {

namespace {

struct known_limits {
  std::mutex mutex;
  std::map<std::string, counter*> counters;  // counters live as long as the registry
};

known_limits& known() {
  static known_limits k;
  return k;
}

}  // namespace

counter& limit_refusal_counter(const std::string& limit) {
  auto& k = known();
  std::lock_guard<std::mutex> guard{k.mutex};
  auto it = k.counters.find(limit);
  if (it != k.counters.end()) {
    return *it->second;
  }
  auto& c = registry::global().get_counter("herald_limit_refusals_total",
                                           "Requests refused by an abuse limit, by limit",
                                           {{"limit", limit}});
  k.counters.emplace(limit, &c);
  return c;
}

std::map<std::string, uint64_t> limit_refusals() {
  auto& k = known();
  std::lock_guard<std::mutex> guard{k.mutex};
  std::map<std::string, uint64_t> out;
  for (const auto& [name, c] : k.counters) {
    out[name] = c->value();
  }
  return out;
}

}  // namespace herald::metrics
