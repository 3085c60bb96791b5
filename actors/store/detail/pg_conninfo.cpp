// SPDX-License-Identifier: Apache-2.0
#include "actors/store/detail/pg_conninfo.hpp"

#include <libpq-fe.h>

#include <map>

namespace herald::store::detail {

namespace {

// libpq's key=value quoting: single quotes around the value, backslash before ' and \.
void append(std::string& out, const std::string& key, const std::string& value) {
  if (!out.empty()) {
    out.push_back(' ');
  }
  out += key;
  out += "='";
  for (char c : value) {
    if (c == '\'' || c == '\\') {
      out.push_back('\\');
    }
    out.push_back(c);
  }
  out.push_back('\'');
}

}  // namespace

result<pg_conninfo> make_conninfo(const std::string& url, const std::string& password) {
  if (url.empty()) {
    return store_error{store_errc::invalid_argument, "store.postgres_url is empty"};
  }
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (options == nullptr) {
    std::string message = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
      message.pop_back();
    }
    return store_error{store_errc::invalid_argument, "store.postgres_url: " + message};
  }
  std::map<std::string, std::string> set;
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val != nullptr) {
      set[o->keyword] = o->val;
    }
  }
  PQconninfoFree(options);
  if (!password.empty()) {
    set["password"] = password;
  }
  if (set.count("connect_timeout") == 0) {
    set["connect_timeout"] = std::to_string(default_connect_timeout_s);
  }
  pg_conninfo out;
  for (const auto& [key, value] : set) {
    append(out.conninfo_, key, value);
  }
  auto get = [&](const char* key, const char* fallback) {
    auto it = set.find(key);
    return it != set.end() && !it->second.empty() ? it->second : std::string{fallback};
  };
  out.description_ = get("host", "(default host)") + ":" + get("port", "5432") + "/" +
                     get("dbname", "(default database)") + " as " + get("user", "(default user)");
  return out;
}

}  // namespace herald::store::detail
