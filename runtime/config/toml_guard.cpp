// SPDX-License-Identifier: Apache-2.0
#include "runtime/config/toml_guard.hpp"

#include <cstdint>
#include <cstdio>

namespace herald::config {

namespace {

/// Where is the scan: strings are tracked only to tell a `#` that starts a comment from one
/// inside a string. A quote toml++ would not read as a string (inside a malformed bare
/// value) may make the scan believe it is in a string; that only means more is checked.
enum class state { normal, comment, basic, literal, ml_basic, ml_literal };

/// The code points for which toml++ 3.3.0's is_non_ascii_horizontal_whitespace() reaches
/// its unreachable default case (its lookup evaluated for every code point up to U+FEFF).
bool hazardous(uint32_t cp) {
  return (cp >= 0xA1 && cp <= 0x499) || (cp >= 0x2C5E && cp <= 0x3057 && cp != 0x3000) ||
         (cp >= 0xFB26 && cp <= 0xFEFE);
}

/// The code point of a well-formed 2- or 3-byte UTF-8 sequence at `i` (the only lengths the
/// ranges need), or 0. Malformed input is left to toml++, which refuses it.
uint32_t decode(std::string_view text, size_t i) {
  auto b = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(text[k])); };
  auto cont = [&](size_t k) { return k < text.size() && (b(k) & 0xC0) == 0x80; };
  if ((b(i) & 0xE0) == 0xC0 && cont(i + 1)) {
    uint32_t cp = (b(i) & 0x1F) << 6 | (b(i + 1) & 0x3F);
    return cp >= 0x80 ? cp : 0;
  }
  if ((b(i) & 0xF0) == 0xE0 && cont(i + 1) && cont(i + 2)) {
    uint32_t cp = (b(i) & 0x0F) << 12 | (b(i + 1) & 0x3F) << 6 | (b(i + 2) & 0x3F);
    return cp >= 0x800 ? cp : 0;
  }
  return 0;
}

}  // namespace

std::optional<hazardous_code_point> hazard_at(std::string_view text, size_t i) {
  if (i >= text.size() || (static_cast<unsigned char>(text[i]) & 0xC0) != 0xC0) {
    return std::nullopt;
  }
  uint32_t cp = decode(text, i);
  if (!hazardous(cp)) {
    return std::nullopt;
  }
  return hazardous_code_point{cp, cp < 0x800 ? size_t{2} : size_t{3}};
}

std::optional<toml_hazard> find_toml_hazard(std::string_view text) {
  state st = state::normal;
  size_t line = 1;
  size_t column = 0;  // code points so far on this line
  auto starts = [&](size_t i, std::string_view s) { return text.substr(i, s.size()) == s; };
  // Closing a multi-line string: its delimiter plus up to two quotes that end its content.
  auto close_ml = [&](size_t& i, char quote) {
    i += 2;
    column += 2;
    for (int extra = 0; extra < 2 && i + 1 < text.size() && text[i + 1] == quote; ++extra) {
      ++i;
      ++column;
    }
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
      ++column;
    }
    if (c == '\n') {
      ++line;
      column = 0;
    }
    if (st != state::comment) {
      if (auto hazard = hazard_at(text, i)) {
        char escape[16];
        std::snprintf(escape, sizeof escape, "\\u%04X", static_cast<unsigned>(hazard->code_point));
        return toml_hazard{line, column,
                           std::string{"character U+"} + (escape + 2) +
                               " is only accepted in comments (this toml++ version mishandles "
                               "it elsewhere); in a string write it as " +
                               escape};
      }
    }
    switch (st) {
      case state::normal:
        if (c == '#') {
          st = state::comment;
        } else if (starts(i, "\"\"\"")) {
          st = state::ml_basic;
          i += 2;
          column += 2;
        } else if (starts(i, "'''")) {
          st = state::ml_literal;
          i += 2;
          column += 2;
        } else if (c == '"') {
          st = state::basic;
        } else if (c == '\'') {
          st = state::literal;
        }
        break;
      case state::comment:
        if (c == '\n') {
          st = state::normal;
        }
        break;
      case state::basic:
        if (c == '\\' && i + 1 < text.size() && (text[i + 1] == '"' || text[i + 1] == '\\')) {
          ++i;  // an escaped quote or backslash does not end the string
          ++column;
        } else if (c == '"' || c == '\n') {
          st = state::normal;  // closed, or an unterminated string toml++ refuses
        }
        break;
      case state::literal:
        if (c == '\'' || c == '\n') {
          st = state::normal;
        }
        break;
      case state::ml_basic:
        if (c == '\\' && i + 1 < text.size() && (text[i + 1] == '"' || text[i + 1] == '\\')) {
          ++i;
          ++column;
        } else if (starts(i, "\"\"\"")) {
          st = state::normal;
          close_ml(i, '"');
        }
        break;
      case state::ml_literal:
        if (starts(i, "'''")) {
          st = state::normal;
          close_ml(i, '\'');
        }
        break;
    }
  }
  return std::nullopt;
}

}  // namespace herald::config
