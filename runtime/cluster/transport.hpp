// SPDX-License-Identifier: Apache-2.0
#pragma once
// The cluster transport is CAF's own remoting (caf::io middleman, BASP), over mutual TLS
// (caf-openssl's session, see tls_scribe.hpp) when the cluster.tls_* keys are set. This file
// configures it before the actor system exists and provides herald's middleman actor: CAF's,
// except that the cluster port's connections must complete the TLS handshake (TLS mode) and
// open with a BASP client handshake within cluster.handshake_timeout_ms; anything else (garbage,
// a plain TCP or HTTP client, a peer without a certificate of the cluster CA, a silent client) is
// counted in herald_cluster_connections_refused_total and dropped, and the node carries on.
// Called on the main thread (configure) and from the node's start (spawn); the guarded servants
// run on the middleman's multiplexer thread.

#include <cstdint>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman_actor.hpp>

#include "runtime/cluster/cluster_config.hpp"

namespace herald::cluster {

/// Loads caf::io::middleman (and caf::openssl::manager with the TLS files when s.tls()),
/// announces the wire types and sets BASP's heartbeat interval and connection timeout from `s`.
/// Call only for a clustered node, before the system is built.
void configure_actor_system(caf::actor_system_config& cfg, const settings& s);

/// A middleman actor whose published ports are guarded (see above), dialling out over TLS when
/// s.tls(). Publish and connect through it with CAF's publish_atom / connect_atom requests.
/// Precondition: `sys` was configured by configure_actor_system with the same TLS settings.
caf::io::middleman_actor spawn_guarded_middleman(caf::actor_system& sys, const settings& s);

/// Connections to the cluster port refused before a BASP handshake (TLS handshake failures and
/// handshake timeouts included), since the process started.
uint64_t refused_connections() noexcept;

}  // namespace herald::cluster
