// SPDX-License-Identifier: Apache-2.0
// Compiles the two group-registry instantiations once.
#include "runtime/registry/detail/groups_impl.hpp"

namespace herald::registry {

template class basic_groups<std::string>;
template class basic_groups<uint64_t>;

}  // namespace herald::registry
