// SPDX-License-Identifier: Apache-2.0
// Log injection: control characters of user text never reach a text log line raw.
#include <spdlog/details/log_msg.h>
#include <spdlog/formatter.h>
#include <catch2/catch.hpp>

#include "runtime/log/escape.hpp"
#include "runtime/log/log.hpp"

namespace herald::log {
namespace {

TEST_CASE("escape_controls_escapes_c0_del_c1_and_the_backslash") {
  CHECK(escape_controls("alice") == "alice");
  CHECK(escape_controls("a\nb\rc\td") == "a\\nb\\rc\\td");
  CHECK(escape_controls("back\\slash") == "back\\\\slash");
  CHECK(escape_controls(std::string_view{"nul\0x", 5}) == "nul\\x00x");
  CHECK(escape_controls("\x1b[31mred") == "\\x1b[31mred");
  CHECK(escape_controls("del\x7f") == "del\\x7f");
  CHECK(escape_controls("csi\xc2\x9b") == "csi\\u009b");  // U+009B, a C1 control
  CHECK(escape_controls("caf\xc3\xa9 \xe2\x9c\x93") == "caf\xc3\xa9 \xe2\x9c\x93");  // UTF-8 kept
  CHECK(escape_controls("end\xc2") == "end\xc2");  // a truncated sequence is copied
  CHECK_FALSE(needs_escaping("plain text, caf\xc3\xa9"));
  CHECK(needs_escaping("two\nlines"));
  CHECK(needs_escaping("\xc2\x85"));  // NEL
}

std::string formatted(format f, std::string_view payload) {
  auto formatter = make_formatter(f);
  spdlog::details::log_msg msg{"admin", spdlog::level::info,
                               spdlog::string_view_t{payload.data(), payload.size()}};
  spdlog::memory_buf_t out;
  formatter->format(msg, out);
  return std::string{out.data(), out.size()};
}

TEST_CASE("a_text_log_line_with_a_forged_line_in_a_user_name_stays_one_line") {
  auto line = formatted(format::text,
                        "created user 5 (eve\n2026-01-01T00:00:00.000Z info  [admin] forged)");
  REQUIRE(!line.empty());
  CHECK(line.back() == '\n');
  CHECK(line.find('\n') == line.size() - 1);
  CHECK(line.find("(eve\\n2026-01-01T00:00:00.000Z info  [admin] forged)") != std::string::npos);
  auto plain = formatted(format::text, "nothing to escape");
  CHECK(plain.find("[admin] nothing to escape\n") != std::string::npos);
}

}  // namespace
}  // namespace herald::log
