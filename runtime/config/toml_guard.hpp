// SPDX-License-Identifier: Apache-2.0
#pragma once
// A pre-check of TOML text before toml++ parses it. Pure function, any thread.
//
// Why: Debian 12's toml++ 3.3.0 classifies the code points U+00A1..U+0499, U+2C5E..U+3057
// (except U+3000) and U+FB26..U+FEFE with a lookup that reaches __builtin_unreachable
// (undefined behaviour),
// found by fuzz/config_fuzz.cpp (upstream marzer/tomlplusplus#190 and #295, fixed after
// 3.3.0). The parser asks that question wherever whitespace or the end of a key or value
// may come: outside strings, in bare values it reads ahead through, and in multi-line
// strings after a backslash; never inside comments. Telling those places apart needs the
// whole TOML grammar (two fuzz-found gaps in a lighter tokenizer proved it), so these code
// points are refused everywhere but in comments. In a value they can be written as
// \uXXXX escapes in a basic string ("caf\u00E9"), which toml++ decodes without the lookup.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace herald::config {

/// Where and why the text was refused: 1-based line and column (in code points), and a
/// message for the syntax error.
struct toml_hazard {
  size_t line = 1;
  size_t column = 1;
  std::string message;
};

/// The first code point in the ranges above outside a comment; nullopt if none.
std::optional<toml_hazard> find_toml_hazard(std::string_view text);

/// A code point in the ranges above, encoded at `text[i]`: its value and its length in bytes.
struct hazardous_code_point {
  uint32_t code_point = 0;
  size_t bytes = 0;
};

/// The hazardous code point that starts at `text[i]`, or nullopt. Whoever writes TOML for
/// this parser (config::render_toml) escapes these as \uXXXX so that it loads back.
std::optional<hazardous_code_point> hazard_at(std::string_view text, size_t i);

}  // namespace herald::config
