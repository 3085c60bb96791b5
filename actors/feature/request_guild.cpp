// SPDX-License-Identifier: Apache-2.0
#include "actors/feature/request_guild.hpp"

#include <utility>

#include "actors/dispatch/commands.hpp"

namespace herald::feature {

request_guild by_channel(std::string param) {
  return {request_guild::kind::channel, std::move(param)};
}

request_guild by_guild(std::string param) {
  return {request_guild::kind::guild, std::move(param)};
}

request_guild any_node() {
  return {request_guild::kind::any_node, {}};
}

channel_guilds::channel_guilds(dispatch::services_ptr svc, size_t capacity)
    : svc_(std::move(svc)), capacity_(capacity) {}

caf::expected<uint64_t> channel_guilds::guild_of(uint64_t channel_id) {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    auto it = cache_.find(channel_id);
    if (it != cache_.end()) {
      return it->second;
    }
  }
  // The store read happens outside the lock: two callers may both read, both get one answer.
  auto found = dispatch::guild_of_channel(svc_, channel_id);
  if (found) {
    std::lock_guard<std::mutex> guard{mutex_};
    if (cache_.size() >= capacity_) {
      cache_.clear();
    }
    cache_.emplace(channel_id, *found);
  }
  return found;
}

}  // namespace herald::feature
