// SPDX-License-Identifier: Apache-2.0
#pragma once
// Where the node's token secret comes from: identity.secret, else identity.secret_file, else a
// generated secret persisted as <node.data_dir>/identity.secret (mode 0600). Called once at
// start on the main thread. Invariant: the same config and data dir always give the same
// secret, so tokens survive restarts.

#include <filesystem>
#include <string>

namespace herald::identity {

/// Shortest secret accepted from config or a file (bytes).
inline constexpr size_t min_secret_bytes = 16;

struct secret_source {
  std::string inline_secret;       ///< identity.secret ("" = unset)
  std::string secret_file;         ///< identity.secret_file ("" = unset)
  std::filesystem::path data_dir;  ///< node.data_dir (for the generated secret)
};

/// load_secret's answer: a secret, or why there is none.
struct loaded_secret {
  std::string secret;  ///< the secret; empty when error is set
  std::string error;   ///< one line naming the key or file involved; empty on success

  bool ok() const noexcept { return error.empty(); }
};

/// The secret, or an error naming the key or file involved. A secret file's trailing
/// newline is ignored. A generated secret is 32 random bytes (OpenSSL RAND_bytes), hex.
loaded_secret load_secret(const secret_source& src);

/// The file a generated secret lives in.
std::filesystem::path generated_secret_path(const std::filesystem::path& data_dir);

}  // namespace herald::identity
