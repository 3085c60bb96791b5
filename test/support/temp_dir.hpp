// SPDX-License-Identifier: Apache-2.0
#pragma once
// The one temporary directory of the test suite. Owned by one test case (or one fixture) and used
// from its thread. Invariant: the directory exists from construction on, is private to its owner
// (mkdtemp) and is removed with its contents on destruction, pass or fail.

#include <filesystem>
#include <string>

namespace herald::testing {

/// A fresh directory under $TMPDIR ("herald-test-XXXXXX").
class temp_dir {
public:
  temp_dir();  ///< throws std::runtime_error if it cannot be created
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::filesystem::path& path() const noexcept { return path_; }
  /// `<path>/<name>` as a string, for config files and command lines.
  std::string file(const std::string& name) const;
  /// Writes `content` to `<path>/<name>` and returns the full path.
  std::string write_file(const std::string& name, const std::string& content) const;

private:
  std::filesystem::path path_;
};

}  // namespace herald::testing
