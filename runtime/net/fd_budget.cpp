// SPDX-License-Identifier: Apache-2.0
#include "runtime/net/fd_budget.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <limits>

namespace herald::net {

uint64_t open_files_limit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY) {
    return std::numeric_limits<uint64_t>::max();
  }
  return static_cast<uint64_t>(lim.rlim_cur);
}

size_t default_max_connections() {
  uint64_t limit = open_files_limit();
  // Kept within the config key's range (10,000,000) for an unlimited process.
  uint64_t budget = limit > fd_headroom ? limit - fd_headroom : 0;
  budget = std::min<uint64_t>(budget, 10'000'000);
  return static_cast<size_t>(std::max<uint64_t>(budget, min_default_connections));
}

}  // namespace herald::net
