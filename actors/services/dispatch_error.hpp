// SPDX-License-Identifier: Apache-2.0
#pragma once
// Errors the dispatch core returns to producers and sessions (CAF error
// category "dispatch"). Pure functions, any thread. Invariant: every failed
// publish or subscribe is exactly one dispatch_errc, never silence.

#include <cstdint>
#include <string>

#include <caf/atom.hpp>
#include <caf/error.hpp>

namespace herald::dispatch {

enum class dispatch_errc : uint8_t {
  unknown_guild = 1,       ///< no such guild in the store
  not_member = 2,          ///< the user is not a member of the guild
  invalid_event = 3,       ///< the event does not apply (unknown channel, role, …)
  persist_failed = 4,      ///< the store refused the write; retryable
  unavailable = 5,         ///< the guild's owner could not be reached; retryable
  already_started = 6,     ///< unused since ensure_started moved to runtime/registry (code kept)
  store_error = 7,         ///< a store read failed while starting an actor
  missing_permission = 8,  ///< the author may not do this in the channel (403)
  unknown_message = 9,     ///< edit or delete of a message that does not exist
  missing_access = 10,     ///< the actor may not VIEW the channel (403, 50001)
  not_author = 11,         ///< edit of a message another user wrote (403, 50005)
  unknown_user = 12,       ///< no such user in the store (admin 404, Identify 4004)
  unknown_member = 13,     ///< a kick's target is not a member of the guild (404, 10007)
};

caf::atom_value dispatch_category() noexcept;
std::string to_string(dispatch_errc x);
caf::error make_error(dispatch_errc x, std::string detail = {});
bool is_error(const caf::error& err, dispatch_errc x) noexcept;
/// True for errors after which the same publish may succeed if retried
/// (persist_failed, unavailable, request timeouts, a receiver that went down).
bool is_retryable(const caf::error& err) noexcept;
/// Maps a runtime start error (registry::start_errc, from ensure_started)
/// to dispatch_errc::unavailable with the same context; any other error
/// (the spawn function's own dispatch error, a timeout) is returned as is.
caf::error from_start_error(caf::error err);

/// "dispatch::not_member: user 5 in guild 7", "sec::request_timeout", …
std::string describe(const caf::error& err);

}  // namespace herald::dispatch
