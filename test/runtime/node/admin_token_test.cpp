// SPDX-License-Identifier: Apache-2.0
// The admin token file: generated once (0600, 256 random bits, URL-safe), read back on the
// next start, or read from admin.token_file with clear errors and a warning on loose modes.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <fstream>

#include "runtime/node/admin_token.hpp"
#include "test/support/process.hpp"

using namespace herald;

namespace {

unsigned mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return static_cast<unsigned>(st.st_mode) & 07777;
}

const node::admin_token& ok(const std::variant<node::admin_token, std::string>& r) {
  INFO((r.index() == 1 ? std::get<1>(r) : std::string{}));
  REQUIRE(r.index() == 0);
  return std::get<0>(r);
}

std::string error_of(const std::variant<node::admin_token, std::string>& r) {
  REQUIRE(r.index() == 1);
  return std::get<1>(r);
}

}  // namespace

TEST_CASE("the_generated_admin_token_is_0600_url_safe_256_bits_and_stable") {
  testing::temp_dir dir;
  auto first = node::load_admin_token("", dir.path().string());
  const auto& t = ok(first);
  CHECK(t.generated);
  CHECK(t.path == dir.path().string() + "/admin.token");
  CHECK(t.value.size() == 43);  // 32 bytes, base64url without padding
  CHECK(t.value.find_first_not_of(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
        std::string::npos);
  CHECK(mode_of(t.path) == 0600);
  CHECK(t.warnings.empty());

  auto again = node::load_admin_token("", dir.path().string());
  CHECK_FALSE(ok(again).generated);
  CHECK(ok(again).value == t.value);

  testing::temp_dir other;
  CHECK(ok(node::load_admin_token("", other.path())).value != t.value);
  CHECK(node::random_admin_token() != node::random_admin_token());
}

TEST_CASE("a_configured_admin_token_file_is_read_missing_empty_or_short_ones_are_refused") {
  testing::temp_dir dir;
  auto good = dir.write_file("tok", "  0123456789abcdefXYZ\n");
  ::chmod(good.c_str(), 0600);
  auto t = node::load_admin_token(good, "/nonexistent");
  CHECK(ok(t).value == "0123456789abcdefXYZ");
  CHECK(ok(t).warnings.empty());

  CHECK(error_of(node::load_admin_token(dir.path().string() + "/missing", dir.path().string()))
            .rfind("admin.token_file: cannot read", 0) == 0);
  for (const char* content :
       {"", "\n", "short", "has a space inside it", "tab\tinside0123456789"}) {
    INFO("content: " << content);
    auto f = dir.write_file("bad", content);
    CHECK(error_of(node::load_admin_token(f, dir.path().string())).rfind("admin.token_file: ", 0) ==
          0);
  }
}

TEST_CASE("a_group_world_readable_admin_token_file_is_used_with_a_warning") {
  testing::temp_dir dir;
  auto f = dir.write_file("tok", "0123456789abcdefXYZ");
  ::chmod(f.c_str(), 0644);
  auto t = node::load_admin_token(f, dir.path().string());
  REQUIRE(ok(t).warnings.size() == 1);
  CHECK(ok(t).warnings[0].find("admin.token_file") != std::string::npos);
  CHECK(ok(t).warnings[0].find("0644") != std::string::npos);
}

TEST_CASE("constant_time_equals_compares_whole_strings") {
  CHECK(node::constant_time_equals("abc", "abc"));
  CHECK(node::constant_time_equals("", ""));
  CHECK_FALSE(node::constant_time_equals("abc", "abd"));
  CHECK_FALSE(node::constant_time_equals("abc", "ab"));
  CHECK_FALSE(node::constant_time_equals("", "a"));
}
