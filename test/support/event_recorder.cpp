// SPDX-License-Identifier: Apache-2.0
#include "test/support/event_recorder.hpp"

#include <algorithm>

namespace herald::testing {

void event_recorder::record(std::string event) {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    events_.push_back(std::move(event));
  }
  changed_.notify_all();
}

std::vector<std::string> event_recorder::events() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return events_;
}

std::vector<std::string> event_recorder::with_prefix(const std::string& prefix) const {
  std::vector<std::string> result;
  std::lock_guard<std::mutex> guard{mutex_};
  for (auto& e : events_) {
    if (e.compare(0, prefix.size(), prefix) == 0) {
      result.push_back(e);
    }
  }
  return result;
}

size_t event_recorder::count(const std::string& event) const {
  std::lock_guard<std::mutex> guard{mutex_};
  return static_cast<size_t>(std::count(events_.begin(), events_.end(), event));
}

bool event_recorder::wait_for(const std::string& event, size_t n,
                              std::chrono::milliseconds timeout) const {
  return wait_until(
      [&](const std::vector<std::string>& xs) {
        return static_cast<size_t>(std::count(xs.begin(), xs.end(), event)) >= n;
      },
      timeout);
}

bool event_recorder::wait_until(const std::function<bool(const std::vector<std::string>&)>& pred,
                                std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> guard{mutex_};
  return changed_.wait_for(guard, timeout, [&] { return pred(events_); });
}

void event_recorder::clear() {
  std::lock_guard<std::mutex> guard{mutex_};
  events_.clear();
}

}  // namespace herald::testing
