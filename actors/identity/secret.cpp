// SPDX-License-Identifier: Apache-2.0
#include "actors/identity/secret.hpp"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "runtime/log/log.hpp"
#include "runtime/node/private_files.hpp"

namespace herald::identity {

namespace {

using loaded = loaded_secret;

loaded fail(std::string line) {
  return loaded{{}, std::move(line)};
}

loaded ok(std::string secret) {
  return loaded{std::move(secret), {}};
}

std::string strip_newline(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) {
    s.pop_back();
  }
  return s;
}

loaded read_secret_file(const std::filesystem::path& path, const std::string& key) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return fail(key + ": cannot read \"" + path.string() + "\"");
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (auto mode = node::loose_mode(path)) {
    log::get("identity")
        ->warn(
            "{}: \"{}\" has mode {}: other local users may read the token secret and "
            "forge any user's token; chmod 600 it",
            key, path.string(), node::format_mode(*mode));
  }
  auto secret = strip_newline(text.str());
  if (secret.size() < min_secret_bytes) {
    return fail(key + ": \"" + path.string() + "\" holds fewer than " +
                std::to_string(min_secret_bytes) + " bytes");
  }
  return ok(std::move(secret));
}

loaded generate(const std::filesystem::path& path) {
  std::array<unsigned char, 32> raw{};
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) {
    return fail("identity.secret: cannot generate a secret (RAND_bytes failed)");
  }
  static constexpr char hex[] = "0123456789abcdef";
  std::string secret;
  for (auto b : raw) {
    secret += hex[b >> 4];
    secret += hex[b & 15];
  }
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  // O_EXCL: two nodes racing on one data dir must not overwrite each other's secret.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      return read_secret_file(path, "identity.secret (generated)");
    }
    return fail("identity.secret: cannot create \"" + path.string() +
                "\": " + std::strerror(errno));
  }
  auto body = secret + "\n";
  bool written = ::write(fd, body.data(), body.size()) == static_cast<ssize_t>(body.size());
  bool synced = written && ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) {
    ::unlink(path.c_str());
    return fail("identity.secret: cannot write \"" + path.string() + "\"");
  }
  return ok(std::move(secret));
}

}  // namespace

std::filesystem::path generated_secret_path(const std::filesystem::path& data_dir) {
  return data_dir / "identity.secret";
}

loaded_secret load_secret(const secret_source& src) {
  if (!src.inline_secret.empty()) {
    if (src.inline_secret.size() < min_secret_bytes) {
      return fail("identity.secret: must be at least " + std::to_string(min_secret_bytes) +
                  " bytes");
    }
    return ok(src.inline_secret);
  }
  if (!src.secret_file.empty()) {
    return read_secret_file(src.secret_file, "identity.secret_file");
  }
  auto path = generated_secret_path(src.data_dir);
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    return read_secret_file(path, "identity.secret (generated)");
  }
  return generate(path);
}

}  // namespace herald::identity
