// SPDX-License-Identifier: Apache-2.0
#pragma once
// Gateway close codes (docs/gateway.md, "Close codes") and the inbound errors the gateway counts.
// Plain constants shared by the protocol state machine, the connection glue and tests.
// Invariant: a code's resumability is the table's; the session survives every resumable close.

#include <cstdint>
#include <string_view>

namespace herald::gateway {

enum class close_code : uint16_t {
  unknown_error = 4000,      ///< internal failure or slow consumer (queue overflow); resumable
  unknown_opcode = 4001,     ///< op the server does not accept from clients; resumable
  decode_error = 4002,       ///< invalid JSON, wrong shape, frame > 4096 bytes, binary; resumable
  not_authenticated = 4003,  ///< op other than Identify/Resume/Heartbeat first; resumable
  authentication_failed = 4004,  ///< bad token; ends the session
  already_authenticated = 4005,  ///< second Identify (or Resume) on one connection; resumable
  invalid_seq = 4007,            ///< Resume with a seq the server never sent; resumable
  rate_limited = 4008,           ///< more than 120 client frames in 60 s; resumable
  session_timed_out = 4009,      ///< no heartbeat within interval + grace; resumable
  invalid_shard = 4010,          ///< Identify shard not [id, n] with id < n; ends the session
  invalid_api_version = 4012,    ///< `v` query parameter other than 10; ends the session
  invalid_intents = 4013,        ///< intent bits the gateway does not know; ends the session
};

/// True when the session stays resumable after the server closed with `c`.
constexpr bool resumable(close_code c) noexcept {
  switch (c) {
    case close_code::authentication_failed:
    case close_code::invalid_shard:
    case close_code::invalid_api_version:
    case close_code::invalid_intents:
      return false;
    default:
      return true;
  }
}

/// A client close with 1000 (normal) or 1001 (going away) ends its session;
/// any other code (or a dropped TCP connection, 1006) keeps it resumable.
constexpr bool peer_close_ends_session(uint16_t code) noexcept {
  return code == 1000 || code == 1001;
}

/// Why inbound traffic was refused; the `kind` label of herald_gateway_inbound_errors_total.
enum class inbound_error : uint8_t {
  invalid_json,           ///< not parseable as JSON (4002)
  wrong_shape,            ///< JSON, but not a payload of the expected shape (4002)
  too_big,                ///< message larger than the inbound limit (4002)
  binary,                 ///< binary message; the gateway takes JSON text only (4002)
  bad_frame,              ///< WebSocket protocol violation reported by the transport (4002)
  unknown_opcode,         ///< 4001
  not_authenticated,      ///< 4003
  already_authenticated,  ///< 4005
  rate_limited,           ///< 4008
  heartbeat_timeout,      ///< 4009
  bad_token,              ///< 4004
  invalid_shard,          ///< 4010
  invalid_intents,        ///< 4013
  invalid_version,        ///< 4012
  invalid_encoding,       ///< `encoding` other than json (4002)
  invalid_seq,            ///< 4007
  invalid_compress,       ///< `compress` other than zlib-stream (4002)
};

/// Stable snake_case name of `e` (the metric label).
std::string_view to_string(inbound_error e) noexcept;

}  // namespace herald::gateway
