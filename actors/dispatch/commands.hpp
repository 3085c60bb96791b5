// SPDX-License-Identifier: Apache-2.0
#pragma once
// Non-blocking domain commands shared by the REST API and the admin API: publish, post,
// edit and delete messages. Callable from any thread (io threads included); each runs in a
// short-lived CAF actor and calls its callback exactly once, on a CAF worker thread.
// Invariant: a command never blocks its caller; success means the event was persisted and
// ordered by its guild (dispatch::publish semantics), failure means nothing was dispatched.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "actors/dispatch/message_text.hpp"  // max_message_chars, utf8_length
#include "actors/guild/guild_actor.hpp"
#include "actors/services/services.hpp"
#include "proto/domain.pb.h"

namespace herald::dispatch {

/// The guild holding `channel_id` (the store's channel index, store::guild_of_channel).
/// Blocking store read: call it from an actor or a tool thread, not an io thread.
/// Errors: invalid_event "unknown_channel" (also for an unknown id), store_error.
caf::expected<uint64_t> guild_of_channel(const services_ptr& svc, uint64_t channel_id);

/// The object a successful command returns: the message JSON (REST body) and its ids.
struct command_result {
  uint64_t guild_id = 0;
  uint64_t message_id = 0;
  std::string json;  ///< the payload the guild encoded (message object; for delete: {id,…})
};

using command_callback = std::function<void(caf::expected<command_result>)>;

struct post_message_args {
  uint64_t channel_id = 0;
  uint64_t author_id = 0;
  std::string content;
  /// Echoed in the REST reply only (Discord echoes it); not stored, not dispatched.
  std::optional<std::string> nonce;
  bool tts = false;  ///< accepted and ignored: herald has no TTS (the message says tts false)
};

/// Creates a message: resolves the channel's guild, mints a snowflake id and publishes
/// MESSAGE_CREATE. The guild actor checks, atomically with the apply, that the channel
/// exists, the author is a member and holds VIEW_CHANNEL and SEND_MESSAGES there.
/// `<@id>`, `<@!id>` and `<@&id>` in the content become mentions / mention_roles.
/// Errors: see client_error_of.
void post_message(const services_ptr& svc, post_message_args args,
                  std::chrono::milliseconds timeout, command_callback done);

/// Edits a message's content: only its author may (as on Discord; MANAGE_MESSAGES does not
/// allow editing others' content). The guild checks, in the step that applies the edit and in
/// Discord's order: the channel exists (10003), the editor may VIEW it (50001, whether or not
/// the message exists), the message exists (10008), the editor wrote it (50005).
void edit_message(const services_ptr& svc, uint64_t channel_id, uint64_t message_id,
                  uint64_t editor_id, std::string content, std::chrono::milliseconds timeout,
                  command_callback done);

/// Deletes a message: its author, or a member with MANAGE_MESSAGES in the channel; either must
/// still VIEW the channel. The guild checks in the step that applies the delete (so a
/// permission revoked just before is seen), in Discord's order: VIEW_CHANNEL (50001), the
/// message exists (10008), MANAGE_MESSAGES unless the author (50013).
void delete_message(const services_ptr& svc, uint64_t channel_id, uint64_t message_id,
                    uint64_t user_id, std::chrono::milliseconds timeout, command_callback done);

/// TYPING_START in the channel for `user_id`, who must be a member holding VIEW_CHANNEL and
/// SEND_MESSAGES there (checked by the guild as it applies the event). The result's json is
/// the TYPING_START payload.
void trigger_typing(const services_ptr& svc, uint64_t channel_id, uint64_t user_id,
                    std::chrono::milliseconds timeout, command_callback done);

/// Removes `user_id` from the guild on behalf of `actor_id` (a kick): the guild checks, in the
/// step that applies it, that the actor is a member holding KICK_MEMBERS (the owner always is)
/// and that the target is a member other than the owner (proto guild_member_remove). Published
/// to the guild's owner node like every producer. On success the result's json is the
/// GUILD_MEMBER_REMOVE payload; the removed user's sessions get it (with GUILD_MEMBERS), then
/// GUILD_DELETE, and nothing more of the guild. Errors: unknown guild → 10004, the actor not a
/// member → 50001, no KICK_MEMBERS or the owner as target → 50013, the target not a member →
/// 10007 (see client_error_of).
void kick_member(const services_ptr& svc, uint64_t guild_id, uint64_t user_id, uint64_t actor_id,
                 std::chrono::milliseconds timeout, command_callback done);

/// An error as a client API shows it: HTTP status, Discord JSON error code and message.
struct client_error {
  unsigned status = 500;
  int code = 0;
  std::string message;
  /// 503s: the client should retry after this many seconds.
  std::optional<int> retry_after_s;
};

/// Maps a command's error: unknown channel → 404/10003, unknown message → 404/10008, unknown
/// guild → 404/10004, unknown user → 404/10013, unknown member → 404/10007, not a member or no
/// VIEW_CHANNEL → 403/50001, missing permission → 403/50013, editing another user's message →
/// 403/50005, retryable (unavailable, persist_failed, timeouts) → 503 with Retry-After 1, anything
/// else → 500/0.
client_error client_error_of(const caf::error& err);

/// Errors specific to commands (CAF category "command").
enum class command_errc : uint8_t {
  unknown_channel = 1,
  not_member = 2,
  not_author = 3,  ///< edit of another user's message
};
caf::error make_error(command_errc x, std::string detail = {});

}  // namespace herald::dispatch
