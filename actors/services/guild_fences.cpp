// SPDX-License-Identifier: Apache-2.0
#include "actors/services/guild_fences.hpp"

#include <utility>

namespace herald::dispatch {

void guild_fences::put(std::uint64_t guild_id, entry e) {
  std::lock_guard<std::mutex> guard(mutex_);
  entries_[guild_id] = std::move(e);
}

std::optional<guild_fences::entry> guild_fences::holding(std::uint64_t guild_id,
                                                         std::uint64_t ring_generation,
                                                         clock::time_point now) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = entries_.find(guild_id);
  if (it == entries_.end()) {
    return std::nullopt;
  }
  if (it->second.ring_generation != ring_generation || now >= it->second.until) {
    entries_.erase(it);
    return std::nullopt;
  }
  return it->second;
}

}  // namespace herald::dispatch
