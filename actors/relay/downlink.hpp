// SPDX-License-Identifier: Apache-2.0
#pragma once
// The downlink of this node: receives the link batches of every other node's uplink
// (uplink.hpp) and hands each section to this node's relay of its guild (services::relays),
// in the link batch's order, as local messages; then acknowledges the link batch (link_ack).
// Per-guild order holds end to end: an exporter's batches enter its uplink in order, leave in
// order, CAF keeps one (uplink, downlink) pair's messages in order, and the downlink sends one
// relay its sections in order. One downlink serves every owner node: it only moves sections
// (BASP deserialised them), and each owner's link is still its own ordered actor pair.
//
// A section whose guild has no relay here is dropped (the relay ended; its exporter ends
// when it sees the relay go). A malformed section (link_stream.hpp split_link) is refused,
// counted (herald_cluster_relay_refused_total) and reported to the guild's relay (which
// attaches again if the section came from its exporter); the other sections still go.
//
// Lifetime: spawned by start_services on a clustered node (services::relay_downlink); ends
// with the router (the node stops).
//
// Messages sent to relays (relay_actor.cpp):
//   (link_section_atom, caf::node_id owner, uint64_t exporter_id, relay_wire::batch)
//   (link_refused_atom, caf::node_id owner, uint64_t exporter_id)

#include <caf/actor.hpp>
#include <caf/atom.hpp>

#include "actors/services/services.hpp"

namespace herald::relay {

using link_section_atom = caf::atom_constant<caf::atom("l_section")>;
using link_refused_atom = caf::atom_constant<caf::atom("l_refused")>;

/// Spawns this node's downlink; it ends when `svc->router` does (spawn it after the router).
caf::actor spawn_downlink(const dispatch::services_ptr& svc);

}  // namespace herald::relay
