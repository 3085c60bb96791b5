// SPDX-License-Identifier: Apache-2.0
#pragma once
// How the admin control routes (ctl_routes.cpp) turn a failure into the admin API's request
// error (runtime/node/request_error.hpp): the one mapping from dispatch and command errors to an
// HTTP status and code, and the store errors, which reach it through the one store mapping
// dispatch::from_store_error (docs/conventions.md#errors). Pure functions; any thread (the
// routes call them on their serial worker).
// Invariant: every dispatch error maps to exactly one request_error; unknown things are 404,
// duplicates 409, retryable errors 503, a store failure 500 with the store's code and message.

#include <string>

#include <caf/error.hpp>

#include "actors/services/store_error_mapping.hpp"  // store::store_error
#include "runtime/node/request_error.hpp"

namespace herald::admin {

/// 400 bad_request: the request itself is wrong (body, ids, names, bits).
node::request_error bad_request(std::string message);

/// A dispatch or command error as the admin answer: unknown_user, unknown_guild, unknown_channel
/// and the guild's unknown_<thing> → 404 with that code; an event whose thing exists → 409
/// already_exists; another refused event → 400 bad_request; a retryable error → 503
/// unavailable; a store read or write that failed → 500 store_error ("store: <errc>: <message>");
/// a command refused for permissions → 403 forbidden; anything else → 500 internal.
node::request_error from_dispatch(const caf::error& err);

/// A store error as the admin answer: dispatch::from_store_error(err, if_not_found), then
/// from_dispatch. `if_not_found` names the thing asked for (dispatch_errc::unknown_user, …).
node::request_error from_store(const store::store_error& err, caf::error if_not_found);

/// A failed store write, where not_found names nothing the caller asked for: 500 store_error.
node::request_error from_store_write(const store::store_error& err);

}  // namespace herald::admin
