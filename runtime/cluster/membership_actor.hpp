// SPDX-License-Identifier: Apache-2.0
#pragma once
// The membership actor: one per clustered node, published on cluster.listen through the guarded
// middleman (transport.hpp). It dials the seeds and the members it learns of, runs the join
// handshake, sends heartbeats every cluster.heartbeat_interval_ms, declares silent peers down
// (member_table.hpp has the rules) and publishes every change, with the ring rebuilt, to the
// cluster_view. Runs on the actor scheduler; its state is its own.
// Invariant: every change of the member table is in the view before the next message is handled.

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/io/middleman_actor.hpp>

#include "runtime/cluster/cluster_config.hpp"
#include "runtime/cluster/cluster_view.hpp"

namespace herald::cluster {

struct membership_options {
  settings config;
  uint64_t instance = 0;  ///< random per process
  std::shared_ptr<cluster_view> view;
  caf::io::middleman_actor middleman;  ///< spawn_guarded_middleman()
  /// Called once, from the actor: nullopt when every seed either accepted this node or could
  /// not be reached, else the one-line refusal of the first seed that refused it.
  std::function<void(std::optional<std::string>)> first_round_done;
};

/// (drain_atom) → nothing: this node starts draining. It leaves its own ring at once (the
/// view's publish, a new generation) and sends every peer a wire::drain_notice now and with
/// every heartbeat from then on, so their rings drop it too; it stays up for them. Idempotent.
using drain_atom = caf::atom_constant<caf::atom("cl_drain")>;

/// Spawns the actor; it starts dialling at once. Stop it with an exit message.
caf::actor spawn_membership(caf::actor_system& sys, membership_options opts);

}  // namespace herald::cluster
