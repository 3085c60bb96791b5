// SPDX-License-Identifier: Apache-2.0
#pragma once
// A session as its gateway connection sees it: the frames of its outbound buffer, parsed.
// Owned and read by one test thread. Invariant: every wait is bounded by its timeout.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/dispatch/api.hpp"

namespace herald::testing {

/// Bound of every wait in the feature sandbox: 20 s.
inline constexpr std::chrono::milliseconds sandbox_wait{20000};

class session_probe {
public:
  using json = nlohmann::json;

  explicit session_probe(dispatch::opened_session opened);
  ~session_probe();  ///< closes the session
  session_probe(const session_probe&) = delete;
  session_probe& operator=(const session_probe&) = delete;

  /// Collects every frame written so far; returns how many were new.
  size_t drain();
  /// Drains until `done(frames())` holds; false after `timeout`.
  bool drain_until(const std::function<bool(const std::vector<json>&)>& done,
                   std::chrono::milliseconds timeout = sandbox_wait);
  /// Drains until a dispatch `type` whose `d` satisfies `match` arrived; it, or nullopt.
  std::optional<json> wait_for(const std::string& type,
                               const std::function<bool(const json&)>& match = {},
                               std::chrono::milliseconds timeout = sandbox_wait);
  const std::vector<json>& frames() const { return frames_; }
  /// Dispatches whose `t` is `type`, in seq order.
  std::vector<json> of_type(const std::string& type) const;

private:
  class listener;
  dispatch::opened_session opened_;
  std::unique_ptr<listener> listener_;
  std::vector<json> frames_;
};

}  // namespace herald::testing
