// SPDX-License-Identifier: Apache-2.0
#pragma once
// A Resume on any node of a cluster (docs/cluster.md, "Session migration"): the session is
// resumed where it lives, or taken over from the node that holds it. Callbacks run on a CAF
// scheduler thread and must not block (as dispatch::session_callback).
// Invariant: a taken-over session keeps its id and continues its seq: its output holds exactly
// the frames after the client's seq, and every guild it was subscribed to continues after the
// holder's cursor (or is resynced), never with a second copy of an event.

#include <chrono>
#include <cstdint>

#include "actors/dispatch/api.hpp"
#include "actors/session/migrate_wire.hpp"

namespace herald::dispatch {

/// Resume of `session_id` for the user `user_id` the Resume's token authenticated, whose client
/// received every frame up to `seq`: the live session on this node (resume_session_async), else,
/// on a clustered node, the session taken over from the node that holds it: asked in turn, the
/// node its id names, then every other node up in this node's view (a session taken over once
/// may move again), through the routers (router.hpp, migrate_request). `done` gets the session
/// (`migrated` set when taken over: its frames after `seq` are held, so attach_resumed at `seq`
/// succeeds) or unavailable (unknown everywhere, refused, or unreachable).
void resume_anywhere_async(const services_ptr& svc, uint64_t session_id, uint64_t user_id,
                           uint64_t seq, std::chrono::milliseconds timeout, session_callback done);

/// The params and the filled output of a session taken over with `reply`; the output's frames
/// have s = reply.next_seq - frames … next_seq - 1. Exposed for tests.
session::session_params migrated_params(const session::migrate_wire::migrate_reply& reply);
session::session_output_ptr migrated_output(const services_ptr& svc,
                                            const session::migrate_wire::migrate_reply& reply);

}  // namespace herald::dispatch
