// SPDX-License-Identifier: Apache-2.0
#pragma once
// The one mapping from a store error to a dispatch error (docs/conventions.md#errors): every
// dispatch-side caller of the store (guild start, REST channel routing) answers through it.
// Pure function, any thread. Invariant: not_found is the only store error a caller names;
// every other store error is dispatch_errc::store_error with the store's code and message.

#include <caf/error.hpp>

#include "actors/store/result.hpp"

namespace herald::dispatch {

/// not_found of the thing asked for becomes `if_not_found` (unknown_guild, unknown_channel,
/// unknown_message: the caller names it); any other store error becomes store_error, whose
/// detail is "<store_errc>: <message>".
caf::error from_store_error(const store::store_error& err, caf::error if_not_found);

/// A failed commit of producers' events: persist_failed (retryable: nothing was written), except
/// in_doubt, which becomes store_error "in_doubt: ..." and is not retryable, because the events
/// may be durable and a producer retrying them would post them twice, and fenced (another node
/// claimed the guild; nothing was written), which becomes unavailable "fenced: ..." (retryable:
/// REST 503 + Retry-After, as for a guild whose owner moves).
caf::error from_commit_error(const store::store_error& err);

}  // namespace herald::dispatch
