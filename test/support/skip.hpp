// SPDX-License-Identifier: Apache-2.0
#pragma once
// Skipping a test that cannot run here (Catch2 v2 has no skip): the process prints why and ends
// with exit code 77, which CTest reports as "Skipped" (SKIP_RETURN_CODE in test/CMakeLists.txt).
// For a precondition of the machine (root, a kernel feature), never for a failure of the code
// under test. Call it from the test's main thread before the test started anything it would have
// to clean up: the process ends at once (no destructors run).

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

namespace herald::testing {

inline constexpr int skip_exit_code = 77;

[[noreturn]] inline void skip_test(const std::string& why) {
  std::cout << "SKIPPED: " << why << std::endl;
  std::cerr << "SKIPPED: " << why << std::endl;
  std::fflush(nullptr);
  std::_Exit(skip_exit_code);
}

}  // namespace herald::testing
