// SPDX-License-Identifier: Apache-2.0
#include "tools/heraldctl/admin_token_source.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "runtime/node/admin_token.hpp"
#include "runtime/node/node_config.hpp"

namespace herald::ctl {

token_location locate_admin_token(const std::string& token_file, const std::string& data_dir,
                                  const char* env_value) {
  const std::string name = node::admin_token_file_name;
  if (!token_file.empty()) {
    return {token_file, "--token-file"};
  }
  if (!data_dir.empty()) {
    return {data_dir + "/" + name, "--data-dir"};
  }
  if (env_value != nullptr && env_value[0] != '\0') {
    return {env_value, std::string{"$"} + token_file_env};
  }
  // heraldd's node.data_dir default, relative to the working directory like heraldd's.
  return {"./var/" + node::default_node_name() + "/" + name, "the default data dir"};
}

std::optional<std::string> read_admin_token(const token_location& where, std::string& error) {
  auto hint =
      " (pass --token-file PATH or --data-dir DIR, or set " + std::string{token_file_env} + ")";
  std::ifstream in(where.path, std::ios::binary);
  if (!in) {
    error = "cannot read the admin token from " + where.path + " (" + where.source +
            "): " + std::strerror(errno) + hint;
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  auto token = text.str();
  auto first = token.find_first_not_of(" \t\r\n");
  auto last = token.find_last_not_of(" \t\r\n");
  if (first == std::string::npos) {
    error = "the admin token file " + where.path + " (" + where.source + ") is empty" + hint;
    return std::nullopt;
  }
  return token.substr(first, last - first + 1);
}

}  // namespace herald::ctl
