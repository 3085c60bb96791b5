// SPDX-License-Identifier: Apache-2.0
#include "actors/relay/dispatch_event.hpp"

#include <algorithm>

namespace herald::relay {

bool dispatch_event::mentions(uint64_t user_id) const noexcept {
  return !mentioned_user_ids.empty() &&
         std::binary_search(mentioned_user_ids.begin(), mentioned_user_ids.end(), user_id);
}

}  // namespace herald::relay
