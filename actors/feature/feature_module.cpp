// SPDX-License-Identifier: Apache-2.0
#include "actors/feature/feature_module.hpp"

#include <algorithm>

namespace herald::feature {

namespace {

bool all_of_chars(const std::string& s, size_t max, bool (*ok)(char)) {
  return !s.empty() && s.size() <= max && std::all_of(s.begin(), s.end(), ok);
}

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

// The guild's rule for custom_dispatch names (actors/guild/event_pipeline.cpp).
bool event_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

}  // namespace

std::vector<std::string> names_of(const std::vector<feature_module>& modules) {
  std::vector<std::string> out;
  out.reserve(modules.size());
  for (const auto& m : modules) {
    out.push_back(m.name);
  }
  return out;
}

std::string contract_violation(const feature_module& m) {
  if (!all_of_chars(m.name, 32, name_char)) {
    return "feature name \"" + m.name + "\" is not [a-z0-9_]{1,32}";
  }
  if (!m.build) {
    return "feature " + m.name + " has no build function";
  }
  for (const auto& e : m.emits) {
    if (!all_of_chars(e.name, 64, event_char)) {
      return "feature " + m.name + " emits \"" + e.name + "\", not [A-Z0-9_]{1,64}";
    }
  }
  return {};
}

std::string contract_violation(const std::string& feature, const route& r) {
  if (r.guild.from == request_guild::kind::any_node ||
      r.path.find("{" + r.guild.param + "}") != std::string::npos) {
    return {};
  }
  return "feature " + feature + ": route " + r.method + " " + r.path + " has no {" + r.guild.param +
         "}: name the parameter that says its guild (by_channel, by_guild) or declare "
         "any_node()";
}

}  // namespace herald::feature
