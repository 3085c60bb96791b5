// SPDX-License-Identifier: Apache-2.0
#pragma once
// Where the node's token secret comes from: identity.secret, else identity.secret_file, else a
// generated secret persisted as <node.data_dir>/identity.secret (mode 0600). Called once at
// start on the main thread. Invariant: the same config and data dir always give the same
// secret, so tokens survive restarts.

#include <filesystem>
#include <string>
#include <variant>

namespace herald::identity {

/// Shortest secret accepted from config or a file (bytes).
inline constexpr size_t min_secret_bytes = 16;

struct secret_source {
  std::string inline_secret;       ///< identity.secret ("" = unset)
  std::string secret_file;         ///< identity.secret_file ("" = unset)
  std::filesystem::path data_dir;  ///< node.data_dir (for the generated secret)
};

/// The secret, or an error line naming the key or file involved. A secret file's trailing
/// newline is ignored. A generated secret is 32 random bytes (OpenSSL RAND_bytes), hex.
std::variant<std::string, std::string> load_secret(const secret_source& src);

/// The file a generated secret lives in.
std::filesystem::path generated_secret_path(const std::filesystem::path& data_dir);

}  // namespace herald::identity
