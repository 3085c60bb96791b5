// SPDX-License-Identifier: Apache-2.0
#pragma once
// How a node reaches the actor a peer published on its cluster.listen, and what that actor
// answers when asked for a named service: the pieces static membership's actor
// (membership_actor.hpp) and etcd membership's link actor (link_actor.hpp) share. Called from
// those actors' handlers; the callbacks run in the calling actor's context (its own thread).
// Invariant: after dial_peer returned true exactly one of its callbacks runs, once.

#include <chrono>
#include <functional>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman_actor.hpp>

namespace herald::cluster {

/// Dials `address` ("HOST:PORT") through `middleman` (the guarded middleman, so over mutual TLS
/// when configured) and calls `reached` with the actor the peer published there (an invalid
/// handle when it publishes none) or `failed` with the rendered error (no answer within
/// `timeout` included). False, and no callback, when `address` is not HOST:PORT with a port.
bool dial_peer(caf::event_based_actor* self, const caf::io::middleman_actor& middleman,
               const std::string& address, std::chrono::milliseconds timeout,
               std::function<void(caf::actor)> reached, std::function<void(std::string)> failed);

/// The answer of a node's published actor to (lookup_service_atom, name): the actor registered
/// under `name` in this node's actor registry, or null (cluster_view::peer).
caf::strong_actor_ptr lookup_service(caf::actor_system& sys, caf::atom_value name);

}  // namespace herald::cluster
