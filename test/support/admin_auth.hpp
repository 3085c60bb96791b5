// SPDX-License-Identifier: Apache-2.0
#pragma once
// The admin API's bearer token as tests see it: read from the file heraldd generated into
// <node.data_dir>/admin.token, sent as `Authorization: Bearer <token>`.
// Pure helpers; any thread.

#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace herald::testing {

/// The token in `<data_dir>/admin.token` without surrounding whitespace; "" if unreadable.
inline std::string read_admin_token(const std::string& data_dir) {
  std::ifstream in(data_dir + "/admin.token");
  std::ostringstream text;
  text << in.rdbuf();
  auto s = text.str();
  auto first = s.find_first_not_of(" \t\r\n");
  auto last = s.find_last_not_of(" \t\r\n");
  return first == std::string::npos ? std::string{} : s.substr(first, last - first + 1);
}

/// The header list that authenticates a request to the admin API.
inline std::vector<std::pair<std::string, std::string>> admin_auth(const std::string& token) {
  return {{"Authorization", "Bearer " + token}};
}

}  // namespace herald::testing
