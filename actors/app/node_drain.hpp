// SPDX-License-Identifier: Apache-2.0
#pragma once
// The node's drain (`heraldctl drain`, POST /v1/drain; docs/operations.md, "Draining a node /
// rolling restart"): the node leaves the guild ring while it stays connected (cluster_node::drain
// tells its peers), refuses new gateway connections (the front door's filter reads
// draining()), tells its gateway sessions op 7 Reconnect spread over cluster.drain_window_ms
// (each closed 4000 after the gateway's close delay, resumable), keeps serving REST, and is
// drained once no guild actor, no gateway connection and no session is left here: a detached
// session is taken over when its client resumes on another node (session migration), or closed
// once cluster.drain_detached_wait_ms has passed after the window. Owned by heraldd's
// composition (actors/app/app.cpp); start() and status() run on the admin API's thread, the
// pacing on a thread of its own, stop() on the node's stop thread.
// Invariant: once started a drain never ends before the process does (there is no undrain), and
// every gateway connection present at the start is told op 7 by the end of the window.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "actors/gateway/gateway_server.hpp"
#include "actors/services/services.hpp"
#include "runtime/cluster/cluster.hpp"
#include "runtime/metrics/metrics.hpp"

namespace herald::app {

struct drain_options {
  std::shared_ptr<cluster::cluster_node> cluster;
  std::shared_ptr<gateway::gateway_server> gateway;
  dispatch::services_ptr svc;
  uint16_t node_id = 0;
  /// cluster.drain_window_ms: op 7 to the sessions spread evenly over it (0: all at once).
  std::chrono::milliseconds window{10000};
  /// How often the pacing thread tells the next sessions and looks at what is left.
  std::chrono::milliseconds step{100};
  /// After the window (plus `grace`), a guild actor still running here although the ring gives
  /// the guild to another node is stopped (see node_drain::stop_moved_guilds).
  std::chrono::milliseconds grace{2000};
  /// cluster.drain_detached_wait_ms: after the window, how long sessions told op 7 may stay
  /// here detached, waiting for their clients to resume on another node (which takes them
  /// over); then the ones left are closed (their clients identify again).
  std::chrono::milliseconds detached_wait{30000};
  /// Called once, from the pacing thread, `exit_delay` after the drain completed when exit was
  /// asked. The delay lets a `heraldctl drain --wait` polling the node see `drained`.
  std::function<void()> exit;
  std::chrono::milliseconds exit_delay{2000};
};

/// What GET /v1/drain answers.
struct drain_status {
  std::string state = "serving";  ///< serving | draining | drained
  size_t guilds_owned = 0;        ///< guild actors running on this node
  size_t sessions = 0;            ///< gateway connections open on this node
  /// Sessions here without a connection: told op 7, waiting to be resumed (taken over) on
  /// another node, or closed after cluster.drain_detached_wait_ms.
  size_t sessions_detached = 0;
  uint64_t sessions_migrated = 0;  ///< connections this drain told op 7
  int64_t window_ms = 0;
  bool exit = false;  ///< the node exits (0) once drained
};

class node_drain {
public:
  explicit node_drain(drain_options o);
  /// Stops the pacing thread.
  ~node_drain();
  node_drain(const node_drain&) = delete;
  node_drain& operator=(const node_drain&) = delete;

  /// Starts the drain (or, already draining, only adds `exit`). The one-line reason when this
  /// node cannot drain (cluster_node::drain: not clustered, or membership not started).
  std::optional<std::string> start(bool exit);
  /// start() succeeded. Any thread.
  bool draining() const noexcept { return started_.load(); }
  drain_status status() const;
  /// Stops the pacing thread (the node stops); idempotent.
  void stop();

private:
  void run();
  /// Tells the sessions due by `elapsed` of the window op 7; true once all were told.
  bool pace(std::chrono::steady_clock::duration elapsed);
  /// Stopgap until guild actors hand off by themselves when the ring moves their guild away:
  /// after the window, each guild actor still running here whose guild this node's ring gives
  /// to another node is stopped (user_shutdown). Nothing reaches it any more (this node routes
  /// the guild to its owner, and refuses routed publishes for guilds it does not own), and a
  /// late commit of it would be fenced by the new owner's claim.
  void stop_moved_guilds();
  /// After the window and detached_wait: closes the sessions still here (nobody resumed them).
  void close_detached_sessions();
  bool complete() const;

  const drain_options opts_;
  metrics::gauge& draining_gauge_;
  metrics::counter& migrated_;
  metrics::counter& detached_closed_;
  std::atomic<bool> started_{false};
  std::atomic<bool> exit_{false};
  std::atomic<uint64_t> told_{0};
  std::atomic<bool> paced_{false};  // the window is over: every connection was told
  uint64_t initial_ = 0;            // connections open when the drain began (set before run())
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // under mutex_
  std::thread pacer_;
};

}  // namespace herald::app
