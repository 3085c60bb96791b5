// SPDX-License-Identifier: Apache-2.0
#include "test/support/temp_dir.hpp"

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace herald::testing {

namespace {

std::filesystem::path make_temp_dir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "herald-test-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    throw std::runtime_error(std::string{"mkdtemp failed: "} + std::strerror(errno));
  }
  return tmpl;
}

}  // namespace

temp_dir::temp_dir() : path_(make_temp_dir()) {}

temp_dir::~temp_dir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string temp_dir::file(const std::string& name) const {
  return (path_ / name).string();
}

std::string temp_dir::write_file(const std::string& name, const std::string& content) const {
  std::string p = file(name);
  std::ofstream out{p, std::ios::binary};
  out << content;
  return p;
}

}  // namespace herald::testing
