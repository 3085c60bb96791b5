// SPDX-License-Identifier: Apache-2.0
#pragma once
// The feature module contract: what a product feature (features/<name>/) declares so a node
// can run it without any edit to the core. A feature has a name (the entry of
// `features.enabled`), keyed services (actors started on demand under their own partition
// supervisors, see keyed_service.hpp), REST routes (mounted with the core routes' auth, rate
// limit, offload and error shapes, see actors/rest/route_kit.hpp), the dispatch events it
// emits with their intents (published through the guild, ordered and permission-checked: see
// ordered_publisher.hpp and proto custom_dispatch) and the core events it observes.
// Modules are plain values built once at start-up; `build` runs on the node's start thread.
// Invariant: a disabled feature builds nothing, starts nothing and mounts nothing.

#include <functional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "actors/feature/keyed_service.hpp"
#include "actors/feature/request_guild.hpp"
#include "actors/outbound/intents.hpp"
#include "actors/rest/message_decorator.hpp"
#include "actors/rest/route_kit.hpp"
#include "actors/services/core_events.hpp"
#include "actors/services/services.hpp"
#include "runtime/config/config.hpp"

namespace herald::feature {

/// A dispatch event the feature publishes (custom_dispatch `name`) and the intents that gate
/// its delivery: sessions holding none of them never receive it.
struct emitted_event {
  std::string name;  ///< [A-Z0-9_]{1,64}, e.g. "MESSAGE_REACTION_ADD"
  session::intents intents = 0;
};

/// A REST route, mounted under /api/v9 and /api/v10 like the core's.
struct route {
  std::string method;  ///< "GET", "PUT", …
  std::string path;    ///< a pattern below /api/vN, e.g. "/channels/{channel_id}/pins"
  rest::work_fn work;  ///< runs in a short-lived CAF actor after auth and the rate limit
  bool needs_auth = true;
  /// Which guild a request is about: in a cluster `work` runs on that guild's owner node, where
  /// the feature's keyed actors of the guild live (owner_routing.hpp). Default: the guild of
  /// the path's {channel_id}; by_guild() for a {guild_id}; any_node() for a route that starts
  /// no keyed actor of a guild. The parameter must be in `path` (contract_violation).
  request_guild guild = by_channel();
};

/// What a feature gets to build itself. The dispatch services are started and outlive it.
struct feature_context {
  dispatch::services_ptr svc;
  /// The node's config (null in tests that build a feature alone).
  const config::config* cfg = nullptr;
};

/// What `build` returns: the platform starts `services` in order before mounting `routes`,
/// and stops them in reverse order after the front door stopped, before the dispatch core.
struct feature_instance {
  std::vector<keyed_service_ptr> services;
  std::vector<route> routes;
  /// Gets every committed core event of the module's `observes` kinds, in guild order, on the
  /// guild's thread (actors/services/core_events.hpp; observe_by_key in keyed_service.hpp
  /// forwards to a keyed actor). Required when `observes` is not empty. Registered after the
  /// services started.
  dispatch::core_observer observer;
  /// Fields of the message objects REST returns (Discord's `reactions`, `pinned`); null: none.
  rest::message_decorator decorator;
};

struct feature_module {
  /// [a-z0-9_]{1,32}: its entry in features.enabled and its metrics label.
  std::string name;
  /// One line for logs and docs.
  std::string summary;
  std::vector<emitted_event> emits;
  /// Core events the feature observes, delivered to feature_instance::observer. Their names
  /// for docs and logs: dispatch::name_of (e.g. "MESSAGE_DELETE").
  std::vector<dispatch::core_event_kind> observes;
  /// Builds the feature's services (not started) and routes; an error stops the node's start.
  std::function<caf::expected<feature_instance>(const feature_context&)> build;
};

/// The names of `modules`, in order.
std::vector<std::string> names_of(const std::vector<feature_module>& modules);

/// Why `m` breaks the contract (a bad name or emitted event), or "" when it keeps it.
std::string contract_violation(const feature_module& m);

/// Why `r` of feature `feature` breaks the contract (its request_guild names a parameter its
/// path does not have), or "" when it keeps it.
std::string contract_violation(const std::string& feature, const route& r);

}  // namespace herald::feature
