// SPDX-License-Identifier: Apache-2.0
#pragma once
// The features a node runs: the enabled modules, built, their services started, their routes
// mounted. Owned by the node composition (actors/app); start, mount and stop run on the node's
// start/stop thread. On a routed cluster node (dispatch_config::cluster set) mount also starts
// the feature front door and mounts every route and decorator wrapped so that it runs on the
// owner of its request's guild (owner_routing.hpp, front_door.hpp).
// Invariant: only modules named in `enabled` are built; stop() stops the front door, then every
// started service exactly once, in reverse start order.

#include <chrono>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "actors/feature/feature_module.hpp"
#include "actors/rest/rest_api.hpp"
#include "runtime/net/http_server.hpp"

namespace herald::feature {

class feature_set {
public:
  /// Builds and starts the modules of `available` named in `enabled`, in `enabled`'s order.
  /// Errors (one line for the node's start error): an unknown or repeated name, a module
  /// breaking the contract, a build or service start failure; services started before the
  /// failure are stopped again. The services' supervisors start under `parent`, a dynamic
  /// supervisor (the node's `features`, in its supervision tree), or as roots when it is
  /// invalid (tests).
  static std::variant<std::unique_ptr<feature_set>, std::string> start(
      const std::vector<feature_module>& available, const std::vector<std::string>& enabled,
      const feature_context& ctx, std::chrono::milliseconds timeout, const caf::actor& parent = {});

  ~feature_set();
  feature_set(const feature_set&) = delete;
  feature_set& operator=(const feature_set&) = delete;

  /// Mounts every running feature's routes through rest::mount and adds its decorators to
  /// `ctx`; on a clustered node wrapped with owner_routing.hpp and with the front door started.
  /// Call once, before server.start(). Throws std::logic_error when a route duplicates another
  /// (http_server::route_async).
  void mount(net::http_server& server, const std::shared_ptr<rest::rest_context>& ctx);

  /// Stops every service, last started first. Idempotent.
  void stop(std::chrono::milliseconds timeout);

  /// The running features' names, in start order.
  std::vector<std::string> names() const;

private:
  struct running {
    feature_module module;
    feature_instance instance;
  };
  feature_set() = default;
  std::vector<running> running_;
  caf::actor_system* system_ = nullptr;
  caf::actor front_door_;  ///< clustered nodes only, from mount() to stop()
  bool stopped_ = false;
};

}  // namespace herald::feature
