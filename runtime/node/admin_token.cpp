// SPDX-License-Identifier: Apache-2.0
#include "runtime/node/admin_token.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "runtime/node/private_files.hpp"

namespace herald::node {

namespace {

using loaded = std::variant<admin_token, std::string>;

loaded fail(std::string line) {
  return loaded{std::in_place_index<1>, std::move(line)};
}

std::string trim(std::string s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.back())) {
    s.pop_back();
  }
  size_t start = 0;
  while (start < s.size() && space(s[start])) {
    ++start;
  }
  return s.substr(start);
}

bool visible_ascii(const std::string& s) {
  for (char c : s) {
    if (c <= ' ' || c > '~') {
      return false;
    }
  }
  return true;
}

loaded read_token(const std::filesystem::path& path, const std::string& key) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return fail(key + ": cannot read \"" + path.string() + "\": " + std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  auto value = trim(text.str());
  if (value.size() < min_admin_token_chars || !visible_ascii(value)) {
    return fail(key + ": \"" + path.string() + "\" must hold one token of at least " +
                std::to_string(min_admin_token_chars) + " visible ASCII characters (no spaces)");
  }
  admin_token t;
  t.value = std::move(value);
  t.path = path;
  if (auto mode = loose_mode(path)) {
    t.warnings.push_back(key + ": \"" + path.string() + "\" has mode " + format_mode(*mode) +
                         ": other local users may read the admin token; chmod 600 it");
  }
  return t;
}

loaded generate(const std::filesystem::path& path) {
  auto value = random_admin_token();
  if (value.empty()) {
    return fail("node.data_dir: cannot generate the admin token (getrandom failed)");
  }
  // O_EXCL: two nodes racing on one data dir must not overwrite each other's token.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      return read_token(path, "node.data_dir (" + std::string{admin_token_file_name} + ")");
    }
    return fail("node.data_dir: cannot create \"" + path.string() + "\": " + std::strerror(errno));
  }
  auto body = value + "\n";
  bool written = ::write(fd, body.data(), body.size()) == static_cast<ssize_t>(body.size());
  bool synced = written && ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) {
    ::unlink(path.c_str());
    return fail("node.data_dir: cannot write \"" + path.string() + "\"");
  }
  admin_token t;
  t.value = std::move(value);
  t.path = path;
  t.generated = true;
  return t;
}

}  // namespace

std::string random_admin_token() {
  std::array<unsigned char, 32> raw{};
  size_t got = 0;
  while (got < raw.size()) {
    auto n = ::getrandom(raw.data() + got, raw.size() - got, 0);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return {};
    }
    got += static_cast<size_t>(n);
  }
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (auto b : raw) {
    bits = (bits << 8) | b;
    count += 8;
    while (count >= 6) {
      count -= 6;
      out += alphabet[(bits >> count) & 63];
    }
  }
  if (count > 0) {
    out += alphabet[(bits << (6 - count)) & 63];
  }
  return out;
}

bool constant_time_equals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) {
    return false;
  }
  volatile unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = diff | static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

std::variant<admin_token, std::string> load_admin_token(const std::string& token_file,
                                                        const std::filesystem::path& data_dir) {
  if (!token_file.empty()) {
    return read_token(token_file, "admin.token_file");
  }
  auto path = data_dir / admin_token_file_name;
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    return read_token(path, "node.data_dir (" + std::string{admin_token_file_name} + ")");
  }
  return generate(path);
}

}  // namespace herald::node
