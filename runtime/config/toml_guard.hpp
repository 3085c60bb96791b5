// SPDX-License-Identifier: Apache-2.0
#pragma once
// A pre-check of TOML text before toml++ parses it. Pure function, any thread.
//
// Why: Debian 12's toml++ 3.3.0 classifies some non-ASCII code points (U+00A1..U+0499,
// U+2C3E..U+3037 and others) with a lookup that reaches __builtin_unreachable: undefined
// behaviour, found by fuzz/config_fuzz.cpp (upstream marzer/tomlplusplus#190 and #295,
// fixed after 3.3.0). The parser asks that question only outside strings and comments and,
// inside a multi-line basic string, right after a backslash. TOML allows no non-ASCII
// character in any of those places except as the first character after a line-ending
// backslash, so refusing them first costs no valid config but that rare spelling.

#include <cstddef>
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

/// The first non-ASCII character outside strings and comments, or right after a backslash
/// (or a line-ending backslash's whitespace) in a multi-line basic string; nullopt if none.
std::optional<toml_hazard> find_toml_hazard(std::string_view text);

}  // namespace herald::config
