// SPDX-License-Identifier: Apache-2.0
#pragma once
// Where a feature's REST calls and decorations run in a cluster: the platform wraps every
// feature route and decorator with these before mounting them (feature_set::mount), so a
// feature author writes its handlers as for one node. A request about a guild this node owns
// runs here, as on a single node; one about a guild another node owns goes to that owner
// through the front doors (front_door.hpp) and its answer is relayed; with no owner known the
// client gets the retryable 503 + Retry-After. Authentication and the rate limit already ran
// here (rest::mount). The wrappers run where the wrapped code would (a REST worker actor) and
// never block on the network.
// Invariant: a wrapped handler runs on this node only when this node owns the request's guild
// in its view, or the request names no guild (any_node(), a path id that is not a snowflake, a
// channel the store does not know: the handler's own checks answer it).

#include <memory>
#include <string>

#include <caf/actor.hpp>

#include "actors/feature/feature_module.hpp"
#include "actors/feature/ownership_epoch.hpp"
#include "actors/feature/request_guild.hpp"
#include "actors/rest/message_decorator.hpp"
#include "actors/rest/route_kit.hpp"

namespace herald::feature {

struct owner_routing {
  dispatch::services_ptr svc;  ///< its config.cluster is set
  std::shared_ptr<channel_guilds> guilds;
  caf::actor door;                         ///< this node's front door
  std::shared_ptr<ownership_epoch> epoch;  ///< checked before a request runs here
};

using owner_routing_ptr = std::shared_ptr<const owner_routing>;

/// The guild `c` is about as `g` declares it: 0 when it names none (any_node(), a parameter
/// that is not a snowflake, an unknown channel); the store's error when it cannot tell.
caf::expected<uint64_t> guild_of(const request_guild& g, const rest::call& c,
                                 channel_guilds& guilds);

/// Route `r` of `feature` as it runs in a cluster (see above).
rest::work_fn on_owner(owner_routing_ptr routing, std::string feature, const route& r);

/// `decorate` of `feature` as it runs in a cluster: the channel's owner answers; while there is
/// none, or it does not answer, the messages get no fields (a decorator never fails).
rest::message_decorator on_owner(owner_routing_ptr routing, std::string feature,
                                 rest::message_decorator decorate);

}  // namespace herald::feature
