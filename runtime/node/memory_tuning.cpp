// SPDX-License-Identifier: Apache-2.0
#include "runtime/node/memory_tuning.hpp"

#include <malloc.h>

#include <algorithm>
#include <limits>

namespace herald::node {

bool tune_malloc(int64_t retain_mb) {
  if (retain_mb <= 0) {
    return true;
  }
  constexpr int64_t mib = 1024 * 1024;
  // glibc caps the mmap threshold at 32 MiB on 64-bit (DEFAULT_MMAP_THRESHOLD_MAX).
  constexpr int64_t max_mmap_threshold = 32 * mib;
  constexpr int64_t growth_step = 64 * mib;
  const int64_t retain = std::min<int64_t>(retain_mb * mib, std::numeric_limits<int>::max());
  bool ok = mallopt(M_TRIM_THRESHOLD, static_cast<int>(retain)) == 1;
  ok = mallopt(M_TOP_PAD, static_cast<int>(std::min(growth_step, retain))) == 1 && ok;
  ok = mallopt(M_MMAP_THRESHOLD, static_cast<int>(std::min(max_mmap_threshold, retain))) == 1 && ok;
  return ok;
}

}  // namespace herald::node
