// SPDX-License-Identifier: Apache-2.0
#pragma once
// Message interface between guild actors, relays, relay partitions and
// sessions on one node. Local-only payloads (shared pointers), never
// serialised. Invariant: everything a partition receives from its guild is
// sent by that guild in guild order, so subscriptions, view changes and
// events apply in one sequence.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/error.hpp>

#include "actors/outbound/session_output.hpp"
#include "actors/relay/dispatch_event.hpp"
#include "actors/relay/partition_core.hpp"
#include "actors/relay/view_snapshot.hpp"

namespace herald::relay {

// -- session → relay → guild --------------------------------------------------

/// (subscribe_atom, session_output_ptr) to a relay → (ok_atom) | error, after
/// the session's GUILD_CREATE is queued in its buffer. The relay delegates to
/// the guild as (subscribe_atom, session_output_ptr, caf::actor partition);
/// errors: dispatch_errc::not_member, dispatch_errc::unavailable, request timeouts.
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;
/// (unsubscribe_atom, uint64_t session_id) to a relay: cast; the session
/// receives nothing from this guild afterwards.
using unsubscribe_atom = caf::atom_constant<caf::atom("unsubscr")>;

// -- session migration (docs/cluster.md, "Session migration") -------------------

/// A cursor naming no known guild order: the session has the guild up to some unknown event, and
/// is resynced.
inline constexpr uint64_t unknown_cursor = UINT64_MAX;

/// (subscribe_after_atom, session_output_ptr, uint64_t cursor) to a relay → (ok_atom) | error,
/// as subscribe_atom for a session migrated from another node that has every event of the guild
/// up to guild order `cursor` (or unknown_cursor): it gets no GUILD_CREATE but the later events,
/// or a resync (migrant_admission.hpp). The relay tells the partition (migrant_atom) first.
using subscribe_after_atom = caf::atom_constant<caf::atom("sub_after")>;
/// (migrant_atom, uint64_t session_id, uint64_t cursor) from a relay to its partition: the next
/// add_subscriber of that session is a migrant's.
using migrant_atom = caf::atom_constant<caf::atom("migrant")>;
/// (migrate_out_atom, uint64_t session_id) to a relay, which forwards it to the session's
/// partition → (bool subscribed, uint64_t cursor): the partition removed the session (if it was
/// subscribed) and names the last guild order it delivered (recent_events::position()), or
/// unknown_cursor.
using migrate_out_atom = caf::atom_constant<caf::atom("migrate_o")>;

// -- relay ↔ guild ------------------------------------------------------------

/// (register_atom, caf::actor relay, std::vector<caf::actor> partitions) to a
/// guild: cast; the guild monitors the relay, resets the partitions' view and
/// sends them every later event. Idempotent.
/// (register_atom, caf::actor relay, std::vector<caf::actor> partitions, uint64_t epoch,
/// uint64_t order): the same for a relay whose partitions were fed up to cursor (epoch, order)
/// by an earlier owner: the guild's view_reset then carries a replay_from, and the tail's
/// events after the cursor follow it, before any live event (docs/cluster.md, "Event tail,
/// cursors and resync").
using register_atom = caf::atom_constant<caf::atom("reg_relay")>;
/// (partitions_atom) to a relay → (std::vector<caf::actor>): a restarted
/// guild re-binds the relays that outlived its previous incarnation.
using partitions_atom = caf::atom_constant<caf::atom("partitions")>;
/// (rebind_atom) to a relay or an exporter → (std::vector<caf::actor> partitions, uint64_t
/// epoch, uint64_t order): what a restarted guild re-binds it with: its partitions and their
/// oldest cursor ((0, 0): none), so that the new incarnation replays its tail after it. The
/// previous incarnation need not have been the one feeding it (a stale owner that was fenced,
/// another node's incarnation in between).
using rebind_atom = caf::atom_constant<caf::atom("rebind")>;
/// (members_atom) to a guild → (uint64_t member_count): sizes a new relay.
/// (cursor_atom) to a relay partition → (uint64_t epoch, uint64_t order): its cursor, the
/// position of the last event it took ((0, 0): none yet).
using cursor_atom = caf::atom_constant<caf::atom("p_cursor")>;
/// (resynced_atom, std::vector<uint64_t> users) from a relay partition to its relay: it resynced
/// the sessions of these users (GUILD_DELETE unavailable, then dropped); the relay counts them
/// and has the users' sessions subscribe again, which writes their GUILD_CREATE.
using resynced_atom = caf::atom_constant<caf::atom("p_resync")>;
using members_atom = caf::atom_constant<caf::atom("members")>;

/// (remote_subscribe_atom, uint64_t session_id, uint64_t user_id, caf::actor exporter) to a
/// guild: cast from an exporter (exporter.hpp) for a session on another node; the guild
/// answers the exporter, in guild order, with a remote_subscriber.
using remote_subscribe_atom = caf::atom_constant<caf::atom("rsubscribe")>;

/// A guild's answer to remote_subscribe_atom: the session's class and GUILD_CREATE tail, or
/// the error refusing it (not_member).
struct remote_subscriber {
  uint64_t session_id = 0;
  uint32_t view_class = 0;
  std::string guild_create_tail;
  caf::error error;
};

/// (member_joined_atom, uint64_t user_id): a guild tells its exporters (the relays that are
/// their own single partition, exporter.hpp) that a user became a member, in guild order, so
/// that the user's sessions on other nodes subscribe. Local relays never receive it: the guild
/// tells this node's sessions itself (session::join_guild_atom).
using member_joined_atom = caf::atom_constant<caf::atom("m_joined")>;

// -- guild → partition (in guild order) ----------------------------------------

/// Adds a session: written its GUILD_CREATE tail first, then later events.
struct add_subscriber {
  session::session_output_ptr output;
  uint32_t view_class = 0;
  std::string guild_create_tail;
};

/// (remove_session_atom, uint64_t session_id): unsubscribes one session.
using remove_session_atom = caf::atom_constant<caf::atom("rm_session")>;
/// (remove_user_atom, uint64_t user_id): unsubscribes a departed member.
using remove_user_atom = caf::atom_constant<caf::atom("rm_user")>;

/// A guild incarnation's whole view: sent when a guild (re)starts or a relay
/// registers. Every subscriber's class is looked up again by user id;
/// subscribers whose user is absent are no longer members and are removed.
struct view_reset {
  view_snapshot_ptr view;
  std::shared_ptr<const std::unordered_map<uint64_t, uint32_t>> class_of_user;
  /// The position of the state it describes: the incarnation's epoch and last order.
  stream_position at;
  /// Set when the guild replays its tail after this reset (a register with a cursor): every
  /// stored event after replay_from follows it. A partition whose cursor is older resyncs its
  /// sessions (it cannot be given what it missed); unset: no replay, no resync.
  std::optional<stream_position> replay_from;
};

}  // namespace herald::relay

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::session::session_output_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::relay::dispatch_event_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::relay::dispatch_batch_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::relay::view_update_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::relay::add_subscriber)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::relay::view_reset)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::relay::remote_subscriber)
