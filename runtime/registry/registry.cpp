// SPDX-License-Identifier: Apache-2.0
// Compiles the two registry instantiations once and renders registry_error.
#include "runtime/registry/detail/registry_impl.hpp"

namespace herald::registry {

std::string to_string(registry_error e) {
  switch (e) {
    case registry_error::key_taken:
      return "key_taken";
    case registry_error::dead_actor:
      return "dead_actor";
    case registry_error::start_failed:
      return "start_failed";
  }
  return "unknown_registry_error";
}

template class basic_registry<std::string>;
template class basic_registry<uint64_t>;

}  // namespace herald::registry
