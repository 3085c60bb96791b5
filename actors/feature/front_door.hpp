// SPDX-License-Identifier: Apache-2.0
#pragma once
// The feature front door: in a routed cluster, a feature request about a guild runs on the
// guild's owner node, so there is exactly one keyed actor per key (a channel's reaction counter,
// its pin board) in the cluster. A node that does not own the request's guild forwards the REST
// call (after its own authentication and rate limit) through its front door to the owner's front
// door over the existing cluster connection (cluster_view::peer + lookup_service_atom, as the
// dispatch router finds its peers); the owner runs the feature's handler as for a local client
// and its HTTP answer travels back. Decorations of message objects take the same path.
// One front door per clustered node, spawned and stopped by feature_set; it runs on the actor
// scheduler and its state (the peers' front doors, the last ownership epoch) is its own.
//
// Messages (local, from the placement wrappers on this node, owner_routing.hpp):
//   (forward_atom, uint16_t owner, feature_wire::call_request) → call_reply | error
//   (forward_atom, uint16_t owner, feature_wire::decorate_request) → decorate_reply | error
// Messages (remote, from a peer's front door):
//   feature_wire::call_request → call_reply | error
//   feature_wire::decorate_request → decorate_reply | error
// Errors are dispatch_errc::unavailable (REST 503 + Retry-After at the client's node): the owner
// not connected, no front door there, no answer within dispatch_config::request_timeout, the
// owner draining or not owning the guild in its own view (the rings disagree while membership
// changes), a malformed request or a route the owner does not run (both also counted in
// herald_cluster_feature_refused_total). Every request gets one answer.
//
// Ownership epochs (ownership_epoch.hpp): before it runs a forwarded request, and every second,
// the front door checks whether this node's ring generation or own incarnation changed; on a
// change the running features' keyed actors are stopped and load the committed state again at
// their next use.
// Invariant: a call_request runs only on a node that owns its guild in its own view.

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>

#include "actors/feature/keyed_service.hpp"
#include "actors/feature/ownership_epoch.hpp"
#include "actors/feature/request_guild.hpp"
#include "actors/rest/message_decorator.hpp"
#include "actors/rest/route_kit.hpp"

namespace herald::feature {

/// The name of every node's front door in its actor system registry (cluster_view::peer).
inline constexpr caf::atom_value front_door_name = caf::atom("h_featdoor");

using forward_atom = caf::atom_constant<caf::atom("f_forward")>;

/// What the owner runs for a forwarded request: the running features' handlers (unwrapped) and
/// their decorators.
struct front_door_table {
  struct route_entry {
    rest::work_fn work;
    request_guild guild;
  };
  /// By route_key(feature, method, path).
  std::map<std::string, route_entry> routes;
  /// By feature name.
  std::map<std::string, rest::message_decorator> decorators;

  static std::string route_key(const std::string& feature, const std::string& method,
                               const std::string& path);
};

struct front_door_options {
  std::shared_ptr<rest::rest_context> rest;  ///< the front door's REST context (svc, draining)
  std::shared_ptr<const front_door_table> table;
  /// The running features' keyed services under this node's epoch (shared with the wrappers).
  std::shared_ptr<ownership_epoch> epoch;
  /// How often the ownership epoch is checked besides before each forwarded request (1 s).
  std::chrono::milliseconds sweep_interval{1000};
};

/// Spawns the front door and registers it under front_door_name. Only for a clustered node
/// (rest->svc->config.cluster set).
caf::actor spawn_front_door(caf::actor_system& sys, front_door_options opts);

/// Unregisters and stops `door` (invalid: nothing).
void stop_front_door(caf::actor_system& sys, const caf::actor& door);

}  // namespace herald::feature
