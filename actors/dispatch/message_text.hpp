// SPDX-License-Identifier: Apache-2.0
#pragma once
// How message text is measured: Discord counts the 2000-character limit in code points.
// Pure functions, any thread; header-only so that body parsers (actors/rest/bodies) and the
// fuzz targets use the one definition without the dispatch commands.

#include <cstddef>
#include <string_view>

namespace herald::dispatch {

/// Maximum message length in characters (Discord: 2000).
inline constexpr std::size_t max_message_chars = 2000;

/// Number of UTF-8 code points in `text` (what the 2000-character limit counts): every byte
/// that is not a continuation byte (10xxxxxx) starts one.
inline std::size_t utf8_length(std::string_view text) {
  std::size_t n = 0;
  for (unsigned char c : text) {
    n += (c & 0xC0) != 0x80 ? 1 : 0;
  }
  return n;
}

}  // namespace herald::dispatch
