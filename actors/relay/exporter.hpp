// SPDX-License-Identifier: Apache-2.0
#pragma once
// The exporter of one guild to one other node: runs on the guild's owner, registers with the
// guild exactly like a local relay (it is its own single partition: the guild sends it events,
// view updates and resets, subscriber answers, member removals and joins, in guild order) and
// forwards all of it to the guild's relay on the subscribed node (the importer) as one ordered
// stream of relay_wire::batch messages, handed to this node's uplink to that node (uplink.hpp),
// which carries them with other guilds' batches in link batches to the node's downlink and so
// to the relay. At most one batch is unacknowledged (the uplink acknowledges it when it leaves
// in a link batch); what the guild sends meanwhile queues and leaves as the next batch
// (export_queue, relay_stream.hpp), so the owner sends each event once per subscribed node. It
// keeps the position of the last event it handed on (its cursor) and registers with every new
// guild incarnation with it: the incarnation replays its event tail after the cursor first.
//
// Lifetime: spawned by the owner's dispatch router for an attach_request (one per importer);
// ends when the importer or the uplink goes down (its node left or the relay ended), when the
// guild moves to another node, or when the node stops (it watches the router, which
// stop_services ends first). Survives guild restarts: it is in the guild's relay group
// (services::relay_groups), and registers with the next incarnation (whose view_reset travels
// down the stream).
//
// Messages:
//   (attach_atom) → relay_wire::attach_reply, once registered with the guild, or an error
//   relay_wire::subscribe_request (from the importer): cast, answered in the stream
//   relay_wire::batch_ack (from the uplink): the next batch may go
//   the guild's relay messages (relay_messages.hpp), (partitions_atom) → {itself} and
//   (rebind_atom) → ({itself}, its cursor)

#include <cstdint>
#include <optional>

#include <caf/actor.hpp>
#include <caf/atom.hpp>

#include "actors/relay/stream_position.hpp"
#include "actors/services/services.hpp"

namespace herald::relay {

using attach_atom = caf::atom_constant<caf::atom("x_attach")>;

/// Spawns the exporter of `guild_id` feeding `importer` (on node `node_id`) through `uplink`.
/// `cursor`: the importer's (attach_request v3), whose partitions another owner fed up to it;
/// the exporter registers with the guild with it, so the guild's tail after it comes first.
caf::actor spawn_exporter(const dispatch::services_ptr& svc, uint64_t guild_id, uint16_t node_id,
                          caf::actor importer, caf::actor uplink,
                          std::optional<stream_position> cursor = std::nullopt);

}  // namespace herald::relay
