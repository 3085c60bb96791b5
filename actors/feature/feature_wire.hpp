// SPDX-License-Identifier: Apache-2.0
#pragma once
// The messages feature front doors exchange between nodes over CAF's remoting
// (front_door.hpp): a feature REST call a node forwards to the owner of the request's guild,
// the owner's HTTP answer, and the same pair for the fields a feature adds to message objects.
// Feature authors never see these: a feature's own messages stay in-process (its keyed actors
// run on the owner), only the REST call crosses the network. Value-only structs with
// `inspect`; each wire name ends in its version: a changed layout gets a new name.
// Invariant: announce_feature_wire_types() runs before the actor system is built (the node hook
// configure_actor_system), on every node of a routed cluster; a front door acts on a request
// only after refusal_of() found nothing wrong with it.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor_system_config.hpp>
#include <caf/meta/type_name.hpp>

#include "runtime/metrics/metrics.hpp"
#include "runtime/net/http_server.hpp"

namespace herald::feature::feature_wire {

/// A feature REST call, after authentication and the rate limit on the node the client
/// reached, forwarded to the front door of the owner of `guild_id`.
struct call_request {
  std::string feature;  ///< the module's name
  std::string method;   ///< "PUT", …
  std::string route;    ///< the route's path pattern as the feature declared it
  uint64_t guild_id = 0;
  uint64_t user_id = 0;             ///< the authenticated user
  std::vector<std::string> params;  ///< path parameters as sent: name, value, name, value, …
  std::string query;
  std::string body;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, call_request& x) {
  return f(caf::meta::type_name("herald.feature.call_request.v1"), x.feature, x.method, x.route,
           x.guild_id, x.user_id, x.params, x.query, x.body);
}

/// The owner's HTTP answer to a call_request, whatever its status (a 404 or 403 of the feature
/// is an answer). Failures to answer at all travel as the caf::error of the response.
struct call_reply {
  uint16_t status = 200;
  std::string content_type;
  std::vector<std::string> headers;  ///< name, value, name, value, …
  std::string body;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, call_reply& x) {
  return f(caf::meta::type_name("herald.feature.call_reply.v1"), x.status, x.content_type,
           x.headers, x.body);
}

/// A feature's fields for message objects (rest::message_decorator), asked of the owner of
/// `guild_id`, which holds the channel's keyed actor.
struct decorate_request {
  std::string feature;
  uint64_t guild_id = 0;
  uint64_t channel_id = 0;
  uint64_t user_id = 0;
  std::vector<uint64_t> message_ids;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, decorate_request& x) {
  return f(caf::meta::type_name("herald.feature.decorate_request.v1"), x.feature, x.guild_id,
           x.channel_id, x.user_id, x.message_ids);
}

struct decorate_reply {
  std::vector<std::string> fields;  ///< one per message id, as rest::decorate_done takes them
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, decorate_reply& x) {
  return f(caf::meta::type_name("herald.feature.decorate_reply.v1"), x.fields);
}

/// At most this many message ids in a decorate_request (REST pages hold at most 100).
inline constexpr size_t max_decorated_messages = 100;

/// Why `x` cannot be acted on ("" when it can): empty names, no guild, an odd parameter list.
std::string refusal_of(const call_request& x);
std::string refusal_of(const decorate_request& x);

/// The call_request for `method` `route` of `feature` with the call's parts.
call_request to_wire(std::string feature, std::string method, std::string route, uint64_t guild_id,
                     uint64_t user_id,
                     const std::vector<std::pair<std::string, std::string>>& params,
                     std::string query, std::string body);
/// The path parameters of a checked call_request as rest::call holds them.
std::vector<std::pair<std::string, std::string>> params_of(const call_request& x);

/// A response as it travels, and back (an odd header list loses its last name).
call_reply to_wire(const net::http_response& r);
net::http_response from_wire(call_reply r);

/// herald_cluster_feature_calls_total{direction}: forwarded calls and decorations this node
/// sent to an owner (`out`) or received as the owner (`in`).
metrics::counter& calls_counter(bool out);
/// herald_cluster_feature_call_failures_total: forwarded calls and decorations that got no
/// answer from the owner (not connected, no front door there, refused, no answer in time).
metrics::counter& failures_counter();
/// herald_cluster_feature_refused_total: malformed requests a front door refused.
metrics::counter& refused_counter();

/// Adds every type above to `cfg` under its wire name.
void announce_feature_wire_types(caf::actor_system_config& cfg);

}  // namespace herald::feature::feature_wire
