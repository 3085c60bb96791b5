// SPDX-License-Identifier: Apache-2.0
#pragma once
// Fields features add to the message objects REST returns (GET /channels/{c}/messages and
// /channels/{c}/messages/{m}): Discord's `reactions`, `pinned`, … A decorator is asked once per
// response with the response's message ids and the reading user, and answers per message the
// JSON members to splice into that object. Decorators are registered before the server starts
// (rest_context::decorators) and called on REST worker actors; they must not block (ask an
// actor and answer from its reply). Invariant: without decorators a response is built exactly
// as before (no extra work); a decorator that fails answers empty fields, never an error.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace herald::rest {

struct decorate_request {
  uint64_t channel_id = 0;
  uint64_t user_id = 0;               ///< who reads (e.g. Discord's `me` of a reaction)
  std::vector<uint64_t> message_ids;  ///< all in channel_id, in response order
};

/// fields[i] holds members for message_ids[i] without braces, e.g. `"pinned":true` (several
/// separated by commas), or "" for none. A size other than message_ids' adds nothing.
using decorate_done = std::function<void(std::vector<std::string> fields)>;

/// Calls `done` exactly once, on any thread.
using message_decorator = std::function<void(const decorate_request&, decorate_done)>;

/// `object` ("{…}", as the encoders write it) with `members` merged in: a member whose name the
/// object already has replaces that member's value (the encoder's `"pinned":false` becomes the
/// decorator's `"pinned":true`: one key, never two); the others go before the closing brace.
/// "" leaves the object as it is.
void splice_members(std::string& object, const std::string& members);

}  // namespace herald::rest
