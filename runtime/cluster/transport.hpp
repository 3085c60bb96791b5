// SPDX-License-Identifier: Apache-2.0
#pragma once
// The cluster transport is CAF's own remoting (caf::io middleman, BASP). This file configures it
// before the actor system exists and provides herald's middleman actor: CAF's, except that the
// cluster port's connections must open with a BASP client handshake; anything else (garbage, a
// plain TCP or HTTP client) is counted in herald_cluster_connections_refused_total and dropped
// by BASP, and the node carries on. Called on the main thread (configure) and from the membership
// actor (spawn); the guarded servants run on the middleman's multiplexer thread.

#include <cstdint>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman_actor.hpp>

#include "runtime/cluster/cluster_config.hpp"

namespace herald::cluster {

/// Loads caf::io::middleman, announces the wire types and sets BASP's heartbeat interval and
/// connection timeout from `s`. Call only for a clustered node, before the system is built.
void configure_actor_system(caf::actor_system_config& cfg, const settings& s);

/// A middleman actor whose published ports are guarded (see above). Publish and connect through
/// it with CAF's publish_atom / connect_atom requests.
caf::io::middleman_actor spawn_guarded_middleman(caf::actor_system& sys);

/// Connections to the cluster port refused before a BASP handshake, since the process started.
uint64_t refused_connections() noexcept;

}  // namespace herald::cluster
