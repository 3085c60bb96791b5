// SPDX-License-Identifier: Apache-2.0
#include "runtime/net/detail/ws_close_payload.hpp"

namespace herald::net::detail {

namespace {

// RFC 6455 section 7.4: the codes a peer may put in a close frame (1012-1014 are registered
// with IANA since; 1004-1006 and 1015 must never be sent, 1016-2999 are reserved).
bool valid_close_code(uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

}  // namespace

std::string_view to_string(close_payload_error e) noexcept {
  switch (e) {
    case close_payload_error::none:
      return "";
    case close_payload_error::truncated:
      return "truncated_close";
    case close_payload_error::bad_code:
      return "bad_close_code";
    case close_payload_error::bad_reason:
      return "bad_close_reason";
  }
  return "";
}

bool valid_utf8(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    // RFC 3629 section 4: the second byte's range depends on the first (this is what rules
    // out overlong forms, surrogates and code points above U+10FFFF).
    size_t len;
    unsigned char lo = 0x80;
    unsigned char hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      lo = c == 0xe0 ? 0xa0 : 0x80;
      hi = c == 0xed ? 0x9f : 0xbf;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      lo = c == 0xf0 ? 0x90 : 0x80;
      hi = c == 0xf4 ? 0x8f : 0xbf;
    } else {
      return false;  // a continuation byte, C0/C1 (overlong) or F5-FF
    }
    if (n - i < len || p[i + 1] < lo || p[i + 1] > hi) {
      return false;
    }
    for (size_t k = 2; k < len; ++k) {
      if (p[i + k] < 0x80 || p[i + k] > 0xbf) {
        return false;
      }
    }
    i += len;
  }
  return true;
}

close_answer answer_close(std::string_view payload) noexcept {
  if (payload.empty()) {
    return {1005, {}, close_payload_error::none};
  }
  if (payload.size() == 1) {
    return {1002, "truncated close code", close_payload_error::truncated};
  }
  auto code = static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8) |
                                    static_cast<uint8_t>(payload[1]));
  if (!valid_close_code(code)) {
    return {1002, "invalid close code", close_payload_error::bad_code};
  }
  if (!valid_utf8(payload.substr(2))) {
    return {1007, "close reason is not utf-8", close_payload_error::bad_reason};
  }
  return {code, {}, close_payload_error::none};
}

}  // namespace herald::net::detail
