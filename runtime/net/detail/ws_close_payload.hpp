// SPDX-License-Identifier: Apache-2.0
#pragma once
// How the server answers a peer's close frame (RFC 6455 sections 5.5.1, 7.1.6, 7.4): a pure
// function of the frame's payload, used by ws_stream on its strand and by the ws_frame fuzz
// target. Invariant: the answer's code is always one a server may send, never an invalid code
// or an invalid reason echoed back.

#include <cstdint>
#include <string_view>

namespace herald::net::detail {

/// What is wrong with a peer's close payload, if anything (a metrics label, see to_string).
enum class close_payload_error : uint8_t {
  none,
  truncated,   ///< one byte: a code needs two (section 5.5.1)
  bad_code,    ///< a code a peer may not send (section 7.4), e.g. 5, 1005 or 2000
  bad_reason,  ///< a reason that is not valid UTF-8 (sections 5.5.1 and 8.1)
};

/// "", "truncated_close", "bad_close_code", "bad_close_reason".
std::string_view to_string(close_payload_error e) noexcept;

/// The close frame to send back. `reason` views a static string (never the peer's bytes).
struct close_answer {
  uint16_t code;  ///< the peer's code echoed, 1005 (sent as an empty payload) or an error code
  std::string_view reason;
  close_payload_error error;
};

/// Empty payload: 1005 (no code, echoed empty). A valid code with a valid UTF-8 reason: the
/// code echoed. One byte or an invalid code: 1002 (protocol error). A reason that is not
/// UTF-8: 1007 (RFC 6455 section 7.4.1: "data within a message that was not consistent with
/// the type of the message"; the reason is defined as UTF-8 text, so 1007 names the fault
/// more exactly than 1002, and Autobahn's case 7.5.1 accepts either).
close_answer answer_close(std::string_view payload) noexcept;

/// True if `s` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, at most
/// U+10FFFF).
bool valid_utf8(std::string_view s) noexcept;

}  // namespace herald::net::detail
