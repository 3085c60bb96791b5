// SPDX-License-Identifier: Apache-2.0
#pragma once
// Where heraldctl finds the admin token: --token-file PATH, else --data-dir DIR
// (DIR/admin.token), else $HERALD_ADMIN_TOKEN_FILE, else heraldd's default data dir
// (./var/<short hostname>/admin.token). Runs on heraldctl's main thread.
// Invariant: the names (--token-file, --data-dir, HERALD_ADMIN_TOKEN_FILE, admin.token) are
// fixed; scripts rely on them.

#include <optional>
#include <string>

namespace herald::ctl {

/// The environment variable naming the token file.
inline constexpr const char* token_file_env = "HERALD_ADMIN_TOKEN_FILE";

struct token_location {
  std::string path;
  std::string source;  ///< how it was chosen, for error messages ("--token-file", ...)
};

/// Picks the file by the order above; `env_value` is the variable's value (nullptr if unset).
token_location locate_admin_token(const std::string& token_file, const std::string& data_dir,
                                  const char* env_value);

/// The token in `where.path` (surrounding whitespace removed), or nullopt with `error` set to
/// one line naming the file, how it was chosen and how to choose another.
std::optional<std::string> read_admin_token(const token_location& where, std::string& error);

}  // namespace herald::ctl
