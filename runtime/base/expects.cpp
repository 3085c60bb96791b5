// SPDX-License-Identifier: Apache-2.0
#include "runtime/base/expects.hpp"

#include <cstdio>
#include <cstdlib>

namespace herald::base {

void check_failed(const char* kind, const char* expr, const char* file, int line) noexcept {
  std::fprintf(stderr, "%s:%d: %s failed: %s\n", file, line, kind, expr);
  std::fflush(stderr);
  std::abort();
}

}  // namespace herald::base
