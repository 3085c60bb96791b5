// SPDX-License-Identifier: Apache-2.0
#pragma once
// Discord Gateway v10 JSON payloads: dispatch frame tails and whole control frames.
// Pure functions, called by the guild actor (once per event) and by sessions; no state.
// Invariant: a tail is exactly `,"t":"<NAME>","d":{…}}`: `{"op":0,"s":<seq>` + tail is a frame.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/domain/guild_state.hpp"
#include "actors/domain/types.hpp"

namespace herald::encoding {

using domain::snowflake;

/// Member count at which a guild is "large": GUILD_CREATE then lists only the
/// receiving member and the owner (Discord's maximum large_threshold).
inline constexpr std::size_t default_large_threshold = 250;

// ---- API objects (also the REST response bodies) ----

std::string encode_user(const domain::user& who);
std::string encode_channel(const domain::channel& ch);
/// The message object as MESSAGE_CREATE and the REST POST carry it. Mentioned
/// users who are not members are left out of `mentions`; an author who left
/// is shown as "Deleted User" without `member`; created_at_ 0 shows the id's time.
std::string encode_message(const domain::guild_state& state, const domain::message& msg,
                           bool redacted = false);

// ---- dispatch tails ----

/// A message event's tail, and where its `content` sits so that the variant without
/// MESSAGE_CONTENT can be made from it when (and only if) a recipient needs it.
struct message_tails {
  std::string full_;
  /// The content's JSON string literal, quotes included: full_[content_begin_, content_end_).
  std::size_t content_begin_ = 0;
  std::size_t content_end_ = 0;
  /// full_ with content, embeds, attachments and components blanked (Discord's
  /// MESSAGE_CONTENT rules); embeds, attachments and components are always empty here.
  std::string redacted() const;
};

/// `full` with its bytes [content_begin, content_end) (a JSON string literal) replaced by `""`.
std::string redact_content(std::string_view full, std::size_t content_begin,
                           std::size_t content_end);

/// `buffer` is reused for full_ (its capacity kept; e.g. a per-thread scratch): the caller that
/// copies the tail elsewhere can hand full_ back next time, so the encoding does not allocate.
message_tails message_create_tails(const domain::guild_state& state, const domain::message& msg,
                                   std::string buffer = {});
/// MESSAGE_UPDATE carries the whole updated message (edited_timestamp set by the caller).
message_tails message_update_tails(const domain::guild_state& state, const domain::message& msg,
                                   std::string buffer = {});
std::string message_delete_tail(snowflake message_id, snowflake channel_id, snowflake guild_id);

/// `member` (with user) is included when `user_id` is a member of the guild.
std::string typing_start_tail(const domain::guild_state& state, snowflake channel_id,
                              snowflake user_id, std::int64_t unix_seconds);

std::string guild_member_add_tail(snowflake guild_id, const domain::member_entry& entry);
std::string guild_member_update_tail(snowflake guild_id, const domain::member_entry& entry);
std::string guild_member_remove_tail(snowflake guild_id, const domain::user& who);

std::string channel_create_tail(const domain::channel& ch);
std::string channel_update_tail(const domain::channel& ch);
std::string channel_delete_tail(const domain::channel& ch);

std::string guild_role_create_tail(snowflake guild_id, const domain::role& r);
std::string guild_role_update_tail(snowflake guild_id, const domain::role& r);
std::string guild_role_delete_tail(snowflake guild_id, snowflake role_id);
/// GUILD_DELETE as a removed member's sessions get it: `{"id"}` without `unavailable`, which
/// tells the client it left the guild (not an outage).
std::string guild_delete_tail(snowflake guild_id);
/// GUILD_DELETE `{"id","unavailable":true}`: the guild is out of service for this session (a
/// resync follows with a fresh GUILD_CREATE), the client keeps it.
std::string guild_unavailable_tail(snowflake guild_id);

/// The guild object without members and channels.
std::string guild_update_tail(const domain::guild_state& state);

/// `,"t":"RESUMED","d":{}}`
std::string resumed_tail();

/// What READY says about the session (docs/gateway.md, "Identify and READY").
struct ready_info {
  domain::user user_;
  std::vector<snowflake> guild_ids_;  // listed as {"id", "unavailable":true}
  std::string session_id_;
  std::string resume_gateway_url_;
  snowflake application_id_ = 0;
  std::uint64_t application_flags_ = 0;
  std::optional<std::array<std::uint32_t, 2>> shard_;  // present only when the client sent one
};

std::string ready_tail(const ready_info& info);

/// GUILD_CREATE in three parts so the expensive ones are encoded once:
/// guild fields and roles (and, for small guilds, every member) once per
/// guild state; the channel list once per view class; only `members` of a
/// large guild and `joined_at` per receiver.
///   guild_create_encoder enc(state);
///   std::string chans = enc.channels_json(ids visible to the class);   // cache per class
///   std::string tail = enc.tail_for(receiver, chans);                  // per member
/// Holds a reference to `state`: valid until the state next changes.
class guild_create_encoder {
public:
  explicit guild_create_encoder(const domain::guild_state& state,
                                std::size_t large_threshold = default_large_threshold);

  /// member_count >= large_threshold.
  bool large() const { return large_; }

  /// The body of the `channels` array (comma-separated channel objects) for
  /// the given channel ids, in the state's (id) order; unknown ids ignored.
  std::string channels_json(const std::vector<snowflake>& channel_ids) const;

  /// The complete tail for `receiver`, listing the channels of `channels_body`.
  std::string tail_for(const domain::member_entry& receiver, std::string_view channels_body) const;

private:
  const domain::guild_state& state_;
  bool large_;
  std::string head_;     // `,"t":"GUILD_CREATE","d":{…,"channels":[`
  std::string members_;  // small guild: every member with user, comma-separated
};

// ---- whole non-dispatch frames (s and t null) ----

/// op 10 `{"heartbeat_interval":N}`
std::string hello_frame(std::int64_t heartbeat_interval_ms);
/// op 11, d null
std::string heartbeat_ack_frame();
/// op 1 sent by the server: heartbeat now; d null
std::string heartbeat_request_frame();
/// op 7, d null
std::string reconnect_frame();
/// op 9, d a JSON boolean: true when the client may resume
std::string invalid_session_frame(bool resumable);

}  // namespace herald::encoding
