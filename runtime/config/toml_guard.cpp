// SPDX-License-Identifier: Apache-2.0
#include "runtime/config/toml_guard.hpp"

namespace herald::config {

namespace {

enum class state { normal, comment, basic, literal, ml_basic, ml_literal };

bool non_ascii(char c) {
  return static_cast<unsigned char>(c) >= 0x80;
}

}  // namespace

std::optional<toml_hazard> find_toml_hazard(std::string_view text) {
  state st = state::normal;
  size_t line = 1;
  size_t column = 0;             // code points so far on this line
  bool after_backslash = false;  // ml_basic: the previous character was an unescaped '\'
  bool skipping = false;         // ml_basic: inside a line-ending backslash's whitespace
  char prev = '\n';              // normal: the last character other than space and tab
  auto starts = [&](size_t i, std::string_view s) { return text.substr(i, s.size()) == s; };
  auto hazard = [&](const char* where) {
    return toml_hazard{line, column,
                       std::string{"non-ASCII character "} + where +
                           " (TOML allows none there; this toml++ version mishandles it)"};
  };
  size_t start = starts(0, "\xEF\xBB\xBF") ? 3 : 0;  // a UTF-8 byte order mark is allowed
  for (size_t i = start; i < text.size(); ++i) {
    char c = text[i];
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
      ++column;
    }
    if (c == '\n') {
      ++line;
      column = 0;
    }
    switch (st) {
      case state::normal: {
        if (non_ascii(c)) {
          return hazard("outside a string or comment");
        }
        // A quote opens a string only where TOML allows one (a key, a value, an array or
        // inline table element); elsewhere it is part of a malformed bare token that toml++
        // reads on through, so what follows is checked as outside a string.
        bool string_may_start =
            prev == '\n' || prev == '=' || prev == '[' || prev == '{' || prev == ',' || prev == '.';
        if (c != ' ' && c != '\t') {
          prev = c;
        }
        if (c == '#') {
          st = state::comment;
        } else if (!string_may_start) {
          break;
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
      }
      case state::comment:
        if (c == '\n') {
          st = state::normal;
          prev = '\n';
        }
        break;
      case state::basic:
        if (c == '\\' && i + 1 < text.size() && text[i + 1] != '\n') {
          ++i;  // an escaped character (a non-ASCII one is an invalid escape either way)
          column += (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80 ? 1 : 0;
        } else if (c == '"' || c == '\n') {
          st = state::normal;  // closed, or an unterminated string toml++ refuses
          prev = '"';          // no second string may follow at once
        }
        break;
      case state::literal:
        if (c == '\'' || c == '\n') {
          st = state::normal;
          prev = '"';
        }
        break;
      case state::ml_basic:
        if (after_backslash) {
          after_backslash = false;
          if (non_ascii(c)) {
            return hazard("after a backslash in a multi-line string");
          }
          skipping = c == ' ' || c == '\t' || c == '\r' || c == '\n';
          break;
        }
        if (skipping) {
          if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            break;
          }
          skipping = false;
          if (non_ascii(c)) {
            return hazard("first after a line-ending backslash (escape it as \\uXXXX)");
          }
        }
        if (c == '\\') {
          after_backslash = true;
        } else if (starts(i, "\"\"\"")) {
          st = state::normal;
          prev = '"';
          i += 2;
          column += 2;
          for (int extra = 0; extra < 2 && i + 1 < text.size() && text[i + 1] == '"'; ++extra) {
            ++i;  // up to two quotes before the closing delimiter belong to the string
            ++column;
          }
        }
        break;
      case state::ml_literal:
        if (starts(i, "'''")) {
          st = state::normal;
          prev = '"';
          i += 2;
          column += 2;
          for (int extra = 0; extra < 2 && i + 1 < text.size() && text[i + 1] == '\''; ++extra) {
            ++i;
            ++column;
          }
        }
        break;
    }
  }
  return std::nullopt;
}

}  // namespace herald::config
