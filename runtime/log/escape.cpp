// SPDX-License-Identifier: Apache-2.0
#include "runtime/log/escape.hpp"

#include <cstdio>

namespace herald::log {

namespace {

bool is_c1_lead(std::string_view s, size_t i) noexcept {
  return static_cast<unsigned char>(s[i]) == 0xC2 && i + 1 < s.size() &&
         static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
         static_cast<unsigned char>(s[i + 1]) <= 0x9F;
}

bool is_plain(unsigned char c) noexcept {
  return c >= 0x20 && c != 0x7F && c != '\\';
}

}  // namespace

bool needs_escaping(std::string_view s) noexcept {
  for (size_t i = 0; i < s.size(); ++i) {
    if (!is_plain(static_cast<unsigned char>(s[i])) || is_c1_lead(s, i)) {
      return true;
    }
  }
  return false;
}

void append_escaped(std::string& out, std::string_view s) {
  out.reserve(out.size() + s.size());
  char buf[8];
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (is_c1_lead(s, i)) {
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(s[i + 1]));
      out += buf;
      ++i;
      continue;
    }
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (is_plain(c)) {
          out.push_back(static_cast<char>(c));
        } else {
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        }
    }
  }
}

std::string escape_controls(std::string_view s) {
  std::string out;
  append_escaped(out, s);
  return out;
}

}  // namespace herald::log
