// SPDX-License-Identifier: Apache-2.0
#include "runtime/supervision/restart_window.hpp"

namespace herald::supervision {

bool restart_window::record(clock::time_point now) {
  recent_.push_back(now);
  while (!recent_.empty() && now - recent_.front() > limit_.period) {
    recent_.pop_front();
  }
  auto within = static_cast<long>(recent_.size());
  // Keep the window bounded even when the caller ignores a `false`.
  while (static_cast<long>(recent_.size()) > limit_.max_restarts + 1) {
    recent_.pop_front();
  }
  return within <= limit_.max_restarts;
}

}  // namespace herald::supervision
