// SPDX-License-Identifier: Apache-2.0
#include "actors/services/guild_fences.hpp"

#include <algorithm>
#include <utility>

namespace herald::dispatch {

namespace {

/// Past this many remembered guilds, entries whose backoff is over are dropped.
constexpr size_t prune_above = 4096;

}  // namespace

guild_fences::clock::duration guild_fences::fenced(std::uint64_t guild_id,
                                                   std::uint64_t ring_generation,
                                                   clock::time_point now, std::string reason,
                                                   clock::duration first, clock::duration max) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (entries_.size() > prune_above) {
    for (auto it = entries_.begin(); it != entries_.end();) {
      it = now - it->second.until > max ? entries_.erase(it) : std::next(it);
    }
  }
  auto hold = std::min(first, max);
  auto it = entries_.find(guild_id);
  if (it != entries_.end() && now - it->second.until < max) {
    hold = std::min(std::max(it->second.hold * 2, hold), max);
  }
  entries_[guild_id] = entry{ring_generation, now + hold, std::move(reason), hold};
  return hold;
}

std::optional<guild_fences::entry> guild_fences::holding(std::uint64_t guild_id,
                                                         std::uint64_t ring_generation,
                                                         clock::time_point now) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = entries_.find(guild_id);
  if (it == entries_.end() || it->second.ring_generation != ring_generation ||
      now >= it->second.until) {
    return std::nullopt;  // kept: a fence soon after doubles the hold
  }
  return it->second;
}

}  // namespace herald::dispatch
