// SPDX-License-Identifier: Apache-2.0
#pragma once
// The messages dispatch routers exchange between nodes over CAF's remoting (router.hpp): a
// publish for a guild another node owns, its answer, and the "is the guild actor alive"
// question of `heraldctl where`. Value-only structs with `inspect`; the event travels as its
// protobuf bytes (proto::event is not a CAF type). Each wire name ends in its version: a changed
// layout gets a new name (and the old one stays readable until no node speaks it).
// Invariant: announce_route_wire_types() runs before the actor system is built (the node hook
// configure_actor_system), on every node of a cluster.

#include <cstdint>
#include <string>

#include <caf/actor_system_config.hpp>
#include <caf/meta/type_name.hpp>

namespace herald::dispatch::route_wire {

/// A publish for `guild_id`, sent by the sender node's router to the owner node's router.
struct publish_request {
  uint64_t guild_id = 0;
  std::string event;  ///< proto::event, SerializeToString
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, publish_request& x) {
  return f(caf::meta::type_name("herald.route.publish_request.v1"), x.guild_id, x.event);
}

/// The owner's ack of a publish_request (errors travel as the caf::error of the response).
struct publish_reply {
  uint64_t guild_order = 0;
  std::string payload;  ///< publish_ack::payload(): the REST response body
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, publish_reply& x) {
  return f(caf::meta::type_name("herald.route.publish_reply.v1"), x.guild_order, x.payload);
}

/// Asks the owner whether the guild actor of `guild_id` is running there.
struct guild_status_request {
  uint64_t guild_id = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, guild_status_request& x) {
  return f(caf::meta::type_name("herald.route.guild_status_request.v1"), x.guild_id);
}

struct guild_status {
  uint64_t guild_id = 0;
  bool alive = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, guild_status& x) {
  return f(caf::meta::type_name("herald.route.guild_status.v1"), x.guild_id, x.alive);
}

/// Adds every type above to `cfg` under its wire name.
void announce_route_wire_types(caf::actor_system_config& cfg);

}  // namespace herald::dispatch::route_wire
