// SPDX-License-Identifier: Apache-2.0
#pragma once
// The Gateway v10 protocol of one connection as a pure state machine: inputs are
// inbound text, transport errors, clock ticks and session outcomes; outputs are actions.
// Owned by one gateway_connection and driven on its strand only (not thread-safe).
// No sockets, no actors, no clock reads: time is passed in, so every path is unit-testable.
// Invariant: Hello is the first frame sent; after a close action no further action is ever
// produced (every later input returns no actions).

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "actors/gateway/close_codes.hpp"
#include "actors/gateway/gateway_options.hpp"

namespace herald::gateway {

using time_point = std::chrono::steady_clock::time_point;

/// A validated op 2 Identify.
struct identify_request {
  std::string token;                             ///< without a "Bot " prefix
  uint32_t intents = 0;                          ///< only known bits (session::valid_intents)
  std::optional<std::array<uint32_t, 2>> shard;  ///< [id, n] with id < n
  uint32_t large_threshold = 50;  ///< accepted, 50…250 (Discord clamps; herald uses its own)
};

/// A validated op 6 Resume.
struct resume_request {
  std::string token;       ///< without a "Bot " prefix
  std::string session_id;  ///< as sent in READY (16 hex digits)
  uint64_t seq = 0;        ///< last seq the client received (null → 0)
};

// -- actions --------------------------------------------------------------------------

/// Send this whole frame (JSON text) to the client.
struct send_frame {
  std::string frame;
};
/// Authenticate `request.token`, open a session and report back with
/// on_session_opened() or on_identify_failed().
struct open_session {
  identify_request request;
};
/// Authenticate, find the session and attach at `request.seq`; report back
/// with on_resumed() or on_resume_failed().
struct resume_session {
  resume_request request;
};
/// Close the WebSocket with `code` (after the frames already sent).
/// `end_session`: the attached session (if any) ends; otherwise it stays
/// resumable for the resume window. `error`: the inbound error that caused
/// it, if any (counted by kind). `drop_unsent`: the client fell behind (slow consumer):
/// frames queued for it and not yet started are dropped so that the close frame is written
/// next (net::ws_connection::close_dropping_unsent); its session still holds them for Resume.
struct close_connection {
  uint16_t code = 4000;
  bool end_session = false;
  std::optional<inbound_error> error;
  bool drop_unsent = false;
};

using action = std::variant<send_frame, open_session, resume_session, close_connection>;
using actions = std::vector<action>;

/// Why an Identify did not produce a session.
enum class identify_failure : uint8_t {
  bad_token,     ///< authentication refused, or the token's user is unknown (4004)
  unavailable,   ///< store or session start failed (4000)
  rate_limited,  ///< over the user's Identify budget (identify_limiter): op 9 false, Identify again
};

/// Why a Resume did not attach.
enum class resume_failure : uint8_t {
  invalid_session,  ///< unknown/expired/closed session, other user, or frames evicted: op 9 false
  seq_never_sent,   ///< 4007
  bad_token,        ///< 4004
};

enum class protocol_state : uint8_t {
  connecting,   ///< before on_open
  hello_sent,   ///< waiting for Identify or Resume
  identifying,  ///< open_session requested
  resuming,     ///< resume_session requested
  ready,        ///< a session is attached; dispatches flow
  closed,       ///< a close action was produced, or the peer closed
};

/// Transport options from the upgrade URL's query string.
struct connection_query {
  std::optional<std::string> version;   ///< `v`
  std::optional<std::string> encoding;  ///< `encoding`
  std::optional<std::string> compress;  ///< `compress`
};
/// Parses `a=1&b=2` (percent-decoding not needed for these keys); unknown keys ignored.
connection_query parse_query(std::string_view query);

/// Keeps guild ids with (id >> 22) % n == shard_id (all of them without a shard).
std::vector<uint64_t> filter_shard(const std::vector<uint64_t>& guild_ids,
                                   const std::optional<std::array<uint32_t, 2>>& shard);

/// Strips a leading "Bot " from a token, as clients may send it either way.
std::string_view strip_bot_prefix(std::string_view token) noexcept;

class gateway_protocol {
public:
  explicit gateway_protocol(const gateway_options& opts);

  /// The upgrade completed: Hello, or close 4012 (bad `v`) / 4002 (encoding
  /// other than json). compress=zlib-stream turns on zlib_stream(); any other compress
  /// value is ignored. Starts the heartbeat clock.
  actions on_open(std::string_view query, time_point now);
  /// One complete inbound text message.
  actions on_text(std::string_view message, time_point now);
  /// An inbound transport violation (too big, binary, bad frame): close 4002.
  actions on_transport_error(inbound_error e);
  /// A WebSocket ping or pong frame: counted against the same 120-per-60 s budget as
  /// messages (close 4008 past it), so a control-frame flood ends like a message flood.
  actions on_control_frame(time_point now);
  /// Heartbeat supervision: op 1 request at interval + grace/2, close 4009 at interval + grace.
  actions on_tick(time_point now);

  /// The session asked for by open_session exists and is attached.
  actions on_session_opened();
  actions on_identify_failed(identify_failure f);
  /// The session asked for by resume_session is attached (replay and RESUMED queued).
  actions on_resumed();
  actions on_resume_failed(resume_failure f);
  /// The session's queue overflowed (slow consumer): close 4000, resumable, dropping the
  /// frames not yet started (close_connection::drop_unsent).
  actions on_overflow();
  /// Graceful drain: op 7 Reconnect (the caller closes after a delay with close_resumable()).
  /// An Identify that arrives afterwards is refused at once with close 4000 instead of
  /// opening a session (READY) that the drain closes a moment later. Resume is still
  /// accepted: it attaches an existing session, which stays resumable either way.
  actions on_drain();
  /// Closes with 4000 keeping the session (after drain, or on an internal error).
  actions close_resumable();
  /// The user's tokens were revoked: close 4004 and end the session (not resumable; a
  /// Resume with the old token is refused with 4004 too). Nothing before Hello.
  actions on_credentials_revoked();
  /// The peer closed or the connection dropped: no more actions.
  void on_peer_closed() noexcept;

  protocol_state state() const noexcept { return state_; }
  /// When on_tick must next run (heartbeat request or timeout).
  time_point next_deadline() const noexcept;
  /// compress=zlib-stream was asked for: every outbound message is deflated.
  bool zlib_stream() const noexcept { return zlib_stream_; }

private:
  actions handle(int64_t op, const nlohmann::json& d, time_point now);
  actions identify(const nlohmann::json& d);
  actions resume(const nlohmann::json& d);
  actions close(close_code code, std::optional<inbound_error> error);
  bool over_rate_limit(time_point now);

  const gateway_options& opts_;
  protocol_state state_ = protocol_state::connecting;
  bool zlib_stream_ = false;
  bool heartbeat_requested_ = false;  // op 1 sent since the last heartbeat
  bool draining_ = false;             // on_drain() ran: no Identify is accepted
  time_point last_heartbeat_{};       // or the Hello
  time_point window_start_{};
  uint32_t window_frames_ = 0;
};

}  // namespace herald::gateway
