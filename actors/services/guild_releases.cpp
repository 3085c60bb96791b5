// SPDX-License-Identifier: Apache-2.0
#include "actors/services/guild_releases.hpp"

namespace herald::dispatch {

guild_releases::step guild_releases::next(std::uint64_t guild_id, std::uint64_t epoch,
                                          clock::time_point now, clock::duration patience) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = entries_.find(guild_id);
  if (it == entries_.end() || it->second.epoch != epoch) {
    entries_[guild_id] = entry{epoch, now + patience, false};
    return step::ask;
  }
  if (it->second.answered || now >= it->second.give_up) {
    return step::claim;
  }
  return step::wait;
}

void guild_releases::answered(std::uint64_t guild_id, std::uint64_t epoch) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = entries_.find(guild_id);
  if (it != entries_.end() && it->second.epoch == epoch) {
    it->second.answered = true;
  }
}

void guild_releases::forget(std::uint64_t guild_id) {
  std::lock_guard<std::mutex> guard(mutex_);
  entries_.erase(guild_id);
}

}  // namespace herald::dispatch
