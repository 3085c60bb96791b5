// SPDX-License-Identifier: Apache-2.0
#pragma once
// Thread-safe recorder of test events ("start:a", "stop:b:exit_reason::user_shutdown") and bounded
// waits. Owned by one test case; actors on any CAF worker thread record into it while the test
// thread waits. Invariant: events are kept in the order record() was called; every wait is bounded
// by its timeout.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "test/support/eventually.hpp"

namespace herald::testing {

class event_recorder {
public:
  void record(std::string event);
  std::vector<std::string> events() const;
  /// Events that start with `prefix`, in order.
  std::vector<std::string> with_prefix(const std::string& prefix) const;
  size_t count(const std::string& event) const;
  /// Waits until `event` was recorded at least `n` times; false on timeout.
  bool wait_for(const std::string& event, size_t n = 1,
                std::chrono::milliseconds timeout = default_wait) const;
  /// Waits until `pred(events)` holds; false on timeout.
  bool wait_until(const std::function<bool(const std::vector<std::string>&)>& pred,
                  std::chrono::milliseconds timeout = default_wait) const;
  void clear();

private:
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<std::string> events_;  // in record() order
};

}  // namespace herald::testing
