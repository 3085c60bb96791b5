// SPDX-License-Identifier: Apache-2.0
#pragma once
// Which guild a feature REST request is about: what a route declares (feature::route::guild)
// so that, in a cluster, the platform runs the request on that guild's owner node, where the
// feature's keyed actors of the guild live (front_door.hpp). The default is the route's
// {channel_id}; a route about a guild names its {guild_id}; a route that touches no guild's
// keyed actors says any_node(). The channel → guild index is cached per node.
// Invariant: channels never move between guilds, so a cached answer never goes wrong; the cache
// holds only channels the store found.

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include <caf/expected.hpp>

#include "actors/services/services.hpp"

namespace herald::feature {

struct request_guild {
  enum class kind { channel, guild, any_node };
  kind from = kind::channel;
  std::string param = "channel_id";  ///< the path parameter holding the channel or guild id
};

/// The request is about the channel in path parameter `param` (the default of every route).
request_guild by_channel(std::string param = "channel_id");
/// The request is about the guild in path parameter `param`.
request_guild by_guild(std::string param = "guild_id");
/// The request runs on the node it reached: it starts no keyed actor of a guild.
request_guild any_node();

/// The channel → guild index (store::guild_of_channel) with a bounded cache; any thread.
class channel_guilds {
public:
  explicit channel_guilds(dispatch::services_ptr svc, size_t capacity = 65536);
  /// The guild of `channel_id`; the store's error (unknown channel, store down) otherwise.
  caf::expected<uint64_t> guild_of(uint64_t channel_id);

private:
  dispatch::services_ptr svc_;
  size_t capacity_;
  std::mutex mutex_;
  std::unordered_map<uint64_t, uint64_t> cache_;  ///< at most capacity_ entries (then cleared)
};

}  // namespace herald::feature
