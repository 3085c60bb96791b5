// SPDX-License-Identifier: Apache-2.0
#pragma once
// A herald node: the actor system, the root supervision tree (root -> system_sup, service_sup)
// and the admin HTTP API, started from a loaded config. Owned by heraldd's main thread
// (run_node) or by a test; the admin API runs on its own io thread.
// Invariant: shutdown() stops service children before system children (reverse start order)
// and returns only after the tree is gone or runtime.shutdown_timeout_ms has passed.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "runtime/config/config.hpp"
#include "runtime/net/http_server.hpp"
#include "runtime/node/admin_api.hpp"
#include "runtime/node/status.hpp"
#include "runtime/supervision/child_spec.hpp"

namespace herald::node {

/// What later modules plug into a node without editing it.
struct node_options {
  /// Children of `system_sup` (registry, cluster, ...): started first, stopped last.
  std::vector<supervision::child_spec> system_children;
  /// Children of `service_sup` (gateway, guilds, ...): started after system_sup, stopped first.
  std::vector<supervision::child_spec> service_children;
  /// Files that modules keep directly in node.data_dir (the node adds its admin.token): at
  /// start, those that grant group/other access are tightened to owner-only with a warning,
  /// and a loose data dir holding one of them is tightened to 0700 (private_files.hpp).
  std::vector<std::string> data_files;
  /// Runs in the constructor before the actor system is built: load CAF modules (the cluster's
  /// io middleman), announce message types, set CAF options.
  std::function<void(caf::actor_system_config&)> configure_actor_system;
  /// Mounts extra admin routes (e.g. POST /v1/users) before the admin server starts.
  std::function<void(net::http_server&, caf::actor_system&)> admin_routes;
  /// Runs in start() after the supervision tree and before the admin API (so admin_routes may
  /// use what it built) and before the node turns ready: start modules outside the tree
  /// (stores, client listeners). A returned line fails start() with start_errc::hook; the
  /// node then shuts down, running on_stop, which must cope with a partial start.
  std::function<std::optional<std::string>(caf::actor_system&)> on_start;
  /// Runs first in shutdown(), once /readyz answers 503 and before the supervision tree
  /// stops: drain clients and stop what on_start started. May block; the shutdown deadline
  /// (runtime.shutdown_timeout_ms, enforced by run_node's watchdog) includes it.
  std::function<void()> on_stop;
  /// While the node is ready, a reason returned here turns /readyz into 503 "not ready:
  /// <reason>" (e.g. "gateway at max_connections"). Runs on the admin io thread; must not block.
  std::function<std::optional<std::string>()> not_ready_reason;
  /// Runs on run_node's signal thread for each SIGHUP while the node runs: re-read what can
  /// change without a restart (TLS certificates). Must not throw; errors are logged by it.
  std::function<void()> on_reload;
};

/// Why start() failed; every message is one line naming the config key involved.
enum class start_errc {
  data_dir,      ///< node.data_dir could not be created
  admin_listen,  ///< admin.listen could not be bound
  admin_auth,    ///< the admin token could not be read/created, or an insecure admin setup
  supervision,   ///< the root supervision tree failed to start
  hook,          ///< node_options::on_start failed
};

std::string to_string(start_errc e);

struct start_error {
  start_errc code;
  std::string message;
};

class node {
public:
  /// Builds the actor system (scheduler threads from runtime.scheduler_threads); starts nothing.
  explicit node(config::config cfg, node_options opts = {});
  /// Shuts down if still running.
  ~node();
  node(const node&) = delete;
  node& operator=(const node&) = delete;

  /// Creates node.data_dir (0700; tightens group/other access with a warning), loads or
  /// generates the admin token, starts the root supervision tree, then the admin API (guarded,
  /// admin_guard.hpp), then marks the node ready. Call once.
  std::optional<start_error> start();

  /// Graceful stop: /readyz turns 503, the root supervisor stops its children in reverse
  /// order (bounded by runtime.shutdown_timeout_ms), then the admin API stops.
  /// Returns false if the tree did not stop within the deadline. Idempotent.
  bool shutdown();

  /// The bound admin port (useful with admin.listen port 0); 0 before start().
  uint16_t admin_port() const noexcept;
  const std::string& name() const noexcept { return name_; }
  const config::config& settings() const noexcept { return cfg_; }
  caf::actor_system& system() noexcept { return *system_; }
  /// The root supervisor; invalid before start() and after shutdown().
  const caf::actor& root() const noexcept { return root_; }
  bool ready() const noexcept { return *admin_ctx_.ready; }
  /// True if the root supervisor exited on its own (gave up after too many restarts).
  bool root_failed() const noexcept { return *root_failed_; }
  /// Status as served at /v1/status.
  node_status status() const;

private:
  std::optional<start_error> start_tree();
  std::optional<start_error> load_admin_auth();
  std::optional<start_error> start_admin();

  config::config cfg_;
  node_options opts_;
  std::string name_;
  std::chrono::steady_clock::time_point started_at_;
  caf::actor_system_config caf_cfg_;
  std::unique_ptr<caf::actor_system> system_;
  admin_context admin_ctx_;
  std::unique_ptr<net::http_server> admin_;
  std::string admin_token_;  // the bearer token the admin guard requires
  caf::actor root_;
  // Set by the root's exit hook (on the root's thread) unless shutdown() stopped it.
  std::shared_ptr<std::atomic<bool>> root_failed_ = std::make_shared<std::atomic<bool>>(false);
  std::shared_ptr<std::atomic<bool>> stopping_ = std::make_shared<std::atomic<bool>>(false);
  std::vector<size_t> collector_ids_;
  bool started_ = false;
  bool stopped_ = false;
};

/// heraldd's body: sets up logging, starts a node, waits for SIGTERM or SIGINT, then shuts
/// down within runtime.shutdown_timeout_ms. SIGHUP runs node_options::on_reload (ignored
/// during shutdown). A second signal during shutdown exits at once.
/// If the root supervisor gives up on its own, the node shuts down as well (so the process
/// supervisor restarts it). Returns the process exit code: 0 after a clean shutdown on a
/// signal, 1 if start failed, the root supervisor failed or the deadline passed. Call from the main
/// thread before any other thread exists (it blocks SIGTERM/SIGINT/SIGHUP so that only its signal
/// thread receives them).
int run_node(const config::config& cfg, node_options opts = {});

}  // namespace herald::node
