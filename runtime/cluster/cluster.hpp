// SPDX-License-Identifier: Apache-2.0
#pragma once
// The cluster component plugged into a node: attach() adds to node_options the hook that loads
// CAF's io middleman before the actor system is built, starts membership when the node starts
// (publishing the membership actor on cluster.listen and joining the seeds, or with etcd
// membership publishing the link actor and registering in etcd), mounts the admin routes
// GET /v1/cluster/nodes and /v1/cluster/ring, registers the cluster metrics and stops it all when
// the node stops. Built on the main thread; the view is read from any thread.
// Invariant: for an unclustered settings object (static, no seeds) attach() only mounts the admin
// routes (showing this node alone): no io module, no port, no thread.

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/io/middleman_actor.hpp>

#include "runtime/cluster/cluster_config.hpp"
#include "runtime/cluster/cluster_view.hpp"
#include "runtime/net/http_server.hpp"
#include "runtime/node/node.hpp"

namespace herald::cluster {

class etcd_membership;

class cluster_node {
public:
  explicit cluster_node(settings s);
  ~cluster_node();
  cluster_node(const cluster_node&) = delete;
  cluster_node& operator=(const cluster_node&) = delete;

  /// Static membership: publishes the membership actor on cluster.listen and waits (at most two
  /// failure timeouts) for every seed to answer or prove unreachable. Returns the one-line error
  /// when the port cannot be opened or a seed refused this node. etcd membership
  /// (settings::etcd): publishes the link actor (link_actor.hpp) on cluster.listen, then
  /// registers in etcd (etcd_membership::start), whose view of the up peers drives the links.
  /// Blocking; call from a non-actor thread.
  std::optional<std::string> start(caf::actor_system& sys);
  /// Stops membership and closes the port. Idempotent.
  void stop();

  const settings& config() const noexcept { return settings_; }
  /// Why the node is not ready because of its membership (etcd unreachable), from any thread.
  std::optional<std::string> not_ready_reason() const;
  /// This node's view of the cluster (always valid).
  const std::shared_ptr<cluster_view>& view() const noexcept { return view_; }
  /// Starts draining this node (`heraldctl drain`; docs/cluster.md, "Draining"): static
  /// membership's actor drops this node from its own ring at once and tells every peer, whose
  /// rings drop it too (etcd membership: the node's key value says draining); the node stays up
  /// for routing and relays. Returns the one-line reason when this node cannot drain: not
  /// clustered (no other node takes its guilds) or not started. Idempotent; any thread.
  std::optional<std::string> drain();
  /// drain() was accepted. Any thread.
  bool draining() const noexcept { return draining_.load(); }
  /// Mounts GET /v1/cluster/nodes and /v1/cluster/ring (behind the node's admin guard).
  void mount_admin_routes(net::http_server& server) const;

private:
  /// start() with etcd membership: the link actor on the port, then etcd_membership::start.
  std::optional<std::string> start_etcd(caf::actor_system& sys);
  /// Publishes published_ on cluster.listen (port_) and registers the refused-connections
  /// collector; the one-line error when the port cannot be opened.
  std::optional<std::string> open_port(caf::actor_system& sys);
  void add_view_collectors();

  settings settings_;
  std::shared_ptr<cluster_view> view_;
  caf::actor_system* system_ = nullptr;
  caf::io::middleman_actor middleman_;
  /// The actor on cluster.listen: static membership's actor or etcd membership's link actor.
  caf::actor published_;
  uint16_t port_ = 0;
  std::vector<size_t> collector_ids_;
  std::shared_ptr<etcd_membership> etcd_;  // set while started with etcd membership
  std::atomic<bool> draining_{false};
  mutable std::mutex drain_mutex_;  // drain() against stop(): published_ is read under it
};

/// Adds admin_routes to `opts` and, for a clustered `s`, configure_actor_system, on_start (before
/// the existing hook) and on_stop (after it); returns the cluster.
std::shared_ptr<cluster_node> attach(node::node_options& opts, settings s);

}  // namespace herald::cluster
