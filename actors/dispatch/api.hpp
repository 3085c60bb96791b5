// SPDX-License-Identifier: Apache-2.0
#pragma once
// The public C++ API of the dispatch core: producers publish events to
// guilds; connections open sessions and drain their frames. Blocking
// functions are for non-actor threads (REST handlers, tools, tests); each
// waits at most its timeout and never hangs. Invariant: publish returns
// success only after the event is persisted and ordered (invariant 7).

#include <chrono>
#include <cstdint>
#include <functional>

#include <caf/actor.hpp>
#include <caf/expected.hpp>

#include "actors/dispatch/start_services.hpp"
#include "actors/guild/guild_actor.hpp"
#include "actors/session/session_actor.hpp"
#include "proto/domain.pb.h"

namespace herald::dispatch {

/// The live guild actor of `guild_id`, starting it (loading its state) if
/// needed. Errors: unknown_guild, store_error, unavailable, timeouts.
caf::expected<caf::actor> guild_actor_of(const services_ptr& svc, uint64_t guild_id,
                                         std::chrono::milliseconds timeout);

/// Publishes `event` to its guild (event.guild_id()) and waits for the ack.
/// Errors: see guild::publish_atom; is_retryable() tells which to retry.
caf::expected<guild::publish_ack> publish(const services_ptr& svc, const proto::event& event,
                                          std::chrono::milliseconds timeout = std::chrono::seconds{
                                              5});

/// A session as its connection holds it: the actor (control) and the output
/// (frames). The output stays valid as long as this handle holds it.
struct opened_session {
  caf::actor actor;
  session::session_output_ptr output;
  /// Taken over from another node (session_migration.hpp): the output holds the frames after
  /// the client's seq, so attach_resumed finds them.
  bool migrated = false;
};

/// Starts a session under the session supervisor: READY is its first frame,
/// then one GUILD_CREATE per guild of `params` as each subscription lands.
caf::expected<opened_session> open_session(const services_ptr& svc, session::session_params params,
                                           std::chrono::milliseconds timeout = std::chrono::seconds{
                                               5});

/// As open_session, without waiting for the start: for bulk opens whose
/// progress is watched on the outputs (benchmarks, load tests).
session::session_output_ptr open_session_async(const services_ptr& svc,
                                               session::session_params params);

/// Completion of an async session call. Runs once, on a CAF scheduler thread:
/// it must not block (post to the connection's executor and return).
using session_callback = std::function<void(caf::expected<opened_session>)>;

/// As open_session, without blocking the caller: `done` gets the started
/// session or the start error. For connection threads (the gateway's
/// Identify). READY may not be written yet (the actor writes it when it first
/// runs); attach() collects it whenever it lands.
void open_session_async(const services_ptr& svc, session::session_params params,
                        std::chrono::milliseconds timeout, session_callback done);

/// Finds the live session `session_id` (services::sessions) for a Resume
/// (session::resume_atom): `done` gets its actor and output, or unavailable
/// ("unknown session"; "session held by another node" when the id's node bits are not this
/// node's cluster.node_id and it was not taken over here) / a timeout. A Resume on a cluster
/// goes through resume_anywhere_async (session_migration.hpp), which takes such a session over. The
/// session's state is unchanged: the caller checks the user, attaches with attach_resumed and tells
/// the session connected_atom on success.
void resume_session_async(const services_ptr& svc, uint64_t session_id,
                          std::chrono::milliseconds timeout, session_callback done);

/// Starts a session from `params` with its output already made (and, for a migrated session,
/// filled), as open_session_async. For session_migration.cpp.
void start_session_async(const services_ptr& svc, session::session_params params,
                         session::session_output_ptr output, std::chrono::milliseconds timeout,
                         session_callback done);

/// A fresh session id: `node_id` (cluster.node_id, 0..1023) in the top 10 bits, below them the
/// process's start time (ms since the Discord epoch, << 14) plus a counter, so ids are unique
/// across the nodes of a cluster and across restarts of a node (unless it opened more than 16384
/// sessions per ms of its uptime). Thread-safe.
uint64_t next_session_id(unsigned node_id = 0);

/// The node id in a session id from next_session_id.
constexpr unsigned node_id_of_session(uint64_t session_id) {
  return static_cast<unsigned>(session_id >> 54);
}

/// Tells `user_id`'s live sessions on this node that the user became a member
/// of `guild_id` outside a guild event (e.g. the owner of a guild just
/// created): each subscribes and gets GUILD_CREATE. Cast; returns at once.
void notify_member_joined(const services_ptr& svc, uint64_t user_id, uint64_t guild_id);

}  // namespace herald::dispatch
