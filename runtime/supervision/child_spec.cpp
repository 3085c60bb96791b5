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

child_key::child_key(const child_key& other) : tag_(other.tag_) {
  if (tag_ == tag::string) {
    value_.str = new std::string(*other.value_.str);
  } else {
    value_.number = other.value_.number;
  }
}

child_key::child_key(child_key&& other) noexcept : tag_(other.tag_), value_(other.value_) {
  other.tag_ = tag::none;
  other.value_.number = 0;
}

child_key& child_key::operator=(const child_key& other) {
  if (this != &other) {
    child_key copy{other};
    *this = std::move(copy);
  }
  return *this;
}

child_key& child_key::operator=(child_key&& other) noexcept {
  if (this != &other) {
    reset();
    tag_ = other.tag_;
    value_ = other.value_;
    other.tag_ = tag::none;
    other.value_.number = 0;
  }
  return *this;
}

child_key::~child_key() {
  reset();
}

void child_key::reset() noexcept {
  if (tag_ == tag::string) {
    delete value_.str;
  }
  tag_ = tag::none;
  value_.number = 0;
}

uint64_t child_key::number() const noexcept {
  return tag_ == tag::number ? value_.number : 0;
}

const std::string& child_key::str() const noexcept {
  return tag_ == tag::string ? *value_.str : empty_string();
}

bool operator==(const child_key& a, const child_key& b) noexcept {
  if (a.tag_ != b.tag_) {
    return false;
  }
  switch (a.tag_) {
    case child_key::tag::none:
      return true;
    case child_key::tag::number:
      return a.value_.number == b.value_.number;
    case child_key::tag::string:
      return *a.value_.str == *b.value_.str;
  }
  return false;
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
