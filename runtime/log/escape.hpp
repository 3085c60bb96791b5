// SPDX-License-Identifier: Apache-2.0
#pragma once
// Escaping of control characters for text log lines (log injection: a user name holding
// "\n2026-01-01T00:00:00.000Z info  [admin] ..." must not forge a second line, and terminal
// escape sequences must not reach an operator's terminal). Pure functions, any thread.
//
// Escapes: `\n` `\r` `\t` as those two-character sequences, a backslash as `\\` (so an escape
// in the output is never ambiguous), every other C0 control and DEL as `\xNN`, and C1
// controls (U+0080..U+009F, UTF-8 C2 80..C2 9F) as `\u00NN`. Every other byte, including the
// rest of UTF-8, is copied unchanged.

#include <string>
#include <string_view>

namespace herald::log {

/// True when escape_controls(s) would differ from s.
bool needs_escaping(std::string_view s) noexcept;

/// `s` with its control characters escaped (see above).
std::string escape_controls(std::string_view s);

/// Appends escape_controls(s) to `out`.
void append_escaped(std::string& out, std::string_view s);

}  // namespace herald::log
