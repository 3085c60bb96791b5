// SPDX-License-Identifier: Apache-2.0
#include "test/support/eventually.hpp"

#include <thread>

namespace herald::testing {

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds step) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) {
      return true;
    }
    std::this_thread::sleep_for(step);
  }
  return condition();
}

}  // namespace herald::testing
