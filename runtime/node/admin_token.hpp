// SPDX-License-Identifier: Apache-2.0
#pragma once
// The admin API's bearer token: read from admin.token_file when set, else from
// <node.data_dir>/admin.token, generated there (32 random bytes, base64url, mode 0600) on the
// first start. Called once on the starting thread; heraldctl reads the same file.
// Invariant: the same config and data dir give the same token across restarts (rotate it by
// replacing the file and restarting).

#include <filesystem>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace herald::node {

/// Shortest token accepted from a configured admin.token_file (characters).
inline constexpr size_t min_admin_token_chars = 16;

/// The file name of the generated token inside node.data_dir (fixed: scripts use it).
inline constexpr const char* admin_token_file_name = "admin.token";

struct admin_token {
  std::string value;
  std::filesystem::path path;         ///< where it was read from or generated into
  bool generated = false;             ///< true if this start created the file
  std::vector<std::string> warnings;  ///< e.g. a group/world-readable admin.token_file
};

/// `token_file` empty: <data_dir>/admin.token, generated when absent. Otherwise the file must
/// exist and hold at least min_admin_token_chars visible ASCII characters (surrounding
/// whitespace ignored); a group/world-readable file is used with a warning. Errors are one
/// line naming admin.token_file (or node.data_dir for the generated file).
std::variant<admin_token, std::string> load_admin_token(const std::string& token_file,
                                                        const std::filesystem::path& data_dir);

/// 32 bytes from getrandom(2) as unpadded base64url (43 characters); "" if the kernel fails.
std::string random_admin_token();

/// Compares in time that depends on the lengths only, never on where the bytes differ.
bool constant_time_equals(std::string_view a, std::string_view b) noexcept;

}  // namespace herald::node
