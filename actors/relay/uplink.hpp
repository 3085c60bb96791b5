// SPDX-License-Identifier: Apache-2.0
#pragma once
// The uplink from this node (a guild owner) to one other node's downlink (downlink.hpp): the
// exporters of every guild this node owns with sessions on that node (exporter.hpp) hand it
// their batches, and it sends them as the sections of one link_batch at a time (relay_wire.hpp,
// link_stream.hpp). One unacknowledged link batch per link: what the exporters hand it
// meanwhile waits (at most one batch per exporter: an exporter's batch is acknowledged,
// batch_ack, when it leaves in a link batch, and until then the exporter coalesces what its
// guild sends in its export_queue). So a burst over thousands of guilds costs a few large
// network messages and acknowledgements instead of one of each per guild, and the memory a
// slow subscribed node can hold here is one coalesced batch per exporter.
//
// Lifetime: spawned by the dispatch router for the first attach_request naming `downlink`;
// ends when that downlink goes down (its node left or restarted) or when the router ends
// (the node stops). Its exporters watch it and end with it; their relays attach again.
//
// Messages:
//   relay_wire::batch (from a local exporter): queued; batch_ack to the exporter once sent
//   relay_wire::link_ack (from the downlink): the next link batch may go

#include <caf/actor.hpp>

#include "actors/services/services.hpp"

namespace herald::relay {

/// Spawns the uplink from this node to `downlink` (on another node).
caf::actor spawn_uplink(const dispatch::services_ptr& svc, caf::actor downlink);

}  // namespace herald::relay
