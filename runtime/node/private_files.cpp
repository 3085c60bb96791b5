// SPDX-License-Identifier: Apache-2.0
#include "runtime/node/private_files.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace herald::node {

namespace {

constexpr unsigned group_other_bits = 077;
constexpr unsigned permission_bits = 07777;

/// chmods `path` to owner-only when it belongs to this process; a warning line either way.
std::string tighten(const std::filesystem::path& path, const struct stat& st, const char* what,
                    const std::string& key) {
  auto mode = static_cast<unsigned>(st.st_mode) & permission_bits;
  auto prefix = key + ": " + what + " \"" + path.string() + "\" had mode " + format_mode(mode);
  if (st.st_uid != ::geteuid()) {
    return prefix + " and belongs to another user; make it private (owner-only) yourself";
  }
  if (S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX) != 0) {
    return prefix + " and is a shared sticky directory; choose a private data dir";
  }
  auto tightened = mode & ~group_other_bits;
  if (::chmod(path.c_str(), tightened) != 0) {
    return prefix + "; chmod failed: " + std::strerror(errno);
  }
  return prefix + " (group/other access); tightened to " + format_mode(tightened);
}

}  // namespace

std::string format_mode(unsigned mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode & permission_bits);
  return buf;
}

std::optional<unsigned> loose_mode(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return std::nullopt;
  }
  auto mode = static_cast<unsigned>(st.st_mode) & permission_bits;
  if ((mode & group_other_bits) == 0) {
    return std::nullopt;
  }
  return mode;
}

private_dir_result make_private_dir(const std::filesystem::path& dir, const std::string& key,
                                    const std::vector<std::string>& own_files) {
  private_dir_result out;
  std::error_code ec;
  bool existed = std::filesystem::exists(dir, ec);
  if (!existed) {
    if (dir.has_parent_path() && !dir.parent_path().empty()) {
      std::filesystem::create_directories(dir.parent_path(), ec);
    }
    // mkdir's mode is filtered by the umask, which can only remove bits: at most 0700.
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      out.error = key + ": cannot create \"" + dir.string() + "\": " + std::strerror(errno);
      return out;
    }
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    out.error = key + ": cannot create \"" + dir.string() + "\": " + std::strerror(errno);
    return out;
  }
  if (!S_ISDIR(st.st_mode)) {
    out.error = key + ": \"" + dir.string() + "\" is not a directory";
    return out;
  }
  bool holds_own_file = false;
  for (const auto& name : own_files) {
    struct stat fst {};
    auto path = dir / name;
    if (::lstat(path.c_str(), &fst) != 0 || !S_ISREG(fst.st_mode)) {
      continue;
    }
    holds_own_file = true;
    if ((fst.st_mode & group_other_bits) != 0) {
      out.warnings.push_back(tighten(path, fst, "file", key));
    }
  }
  if ((st.st_mode & group_other_bits) != 0) {
    if (holds_own_file) {
      out.warnings.insert(out.warnings.begin(), tighten(dir, st, "data directory", key));
    } else {
      out.warnings.insert(out.warnings.begin(),
                          key + ": data directory \"" + dir.string() + "\" has mode " +
                              format_mode(static_cast<unsigned>(st.st_mode)) +
                              " (group/other access) and holds no node files yet, so it was left "
                              "as it is; make it private (chmod 700) or choose a new directory");
    }
  }
  return out;
}

}  // namespace herald::node
