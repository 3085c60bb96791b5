// SPDX-License-Identifier: Apache-2.0
#include "actors/dispatch/routed_calls.hpp"

#include <utility>
#include <vector>

namespace herald::dispatch {

uint64_t routed_calls::add(uint16_t owner, fail_fn fail) {
  auto id = next_id_++;
  calls_.emplace(id, call{owner, std::move(fail)});
  return id;
}

bool routed_calls::settle(uint64_t id) {
  return calls_.erase(id) > 0;
}

size_t routed_calls::fail_not_up(const std::set<uint16_t>& up,
                                 const std::function<caf::error(uint16_t owner)>& error_for) {
  // Taken out first: a fail function may run code that adds calls.
  std::vector<call> failed;
  for (auto it = calls_.begin(); it != calls_.end();) {
    if (up.count(it->second.owner) > 0) {
      ++it;
      continue;
    }
    failed.push_back(std::move(it->second));
    it = calls_.erase(it);
  }
  for (auto& c : failed) {
    c.fail(error_for(c.owner));
  }
  return failed.size();
}

}  // namespace herald::dispatch
