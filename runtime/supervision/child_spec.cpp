// SPDX-License-Identifier: Apache-2.0
#include "runtime/supervision/child_spec.hpp"

#include <functional>

namespace herald::supervision {

namespace {

uint64_t splitmix64(uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

const std::string& empty_string() {
  static const std::string empty;
  return empty;
}

}  // namespace

uint64_t child_key::number() const noexcept {
  auto* n = std::get_if<uint64_t>(&value_);
  return n != nullptr ? *n : 0;
}

const std::string& child_key::str() const noexcept {
  auto* s = std::get_if<std::string>(&value_);
  return s != nullptr ? *s : empty_string();
}

uint64_t child_key::hash() const noexcept {
  if (is_string()) {
    return splitmix64(std::hash<std::string>{}(str()));
  }
  return splitmix64(number());
}

std::string child_key::to_string() const {
  if (is_number()) {
    return std::to_string(number());
  }
  if (is_string()) {
    return str();
  }
  return "-";
}

child_spec worker_spec(std::string id, start_fn start, restart_type restart, std::string kind) {
  child_spec spec;
  spec.id = std::move(id);
  spec.start = std::move(start);
  spec.restart = restart;
  spec.kind = std::move(kind);
  return spec;
}

std::string to_string(restart_type x) {
  switch (x) {
    case restart_type::permanent:
      return "permanent";
    case restart_type::transient:
      return "transient";
    case restart_type::temporary:
      return "temporary";
  }
  return "?";
}

std::string to_string(child_type x) {
  return x == child_type::worker ? "worker" : "supervisor";
}

}  // namespace herald::supervision
