// SPDX-License-Identifier: Apache-2.0
#include "actors/relay/dispatch_event.hpp"

#include <algorithm>
#include <string>
#include <string_view>

namespace herald::relay {

bool dispatch_event::mentions(uint64_t user_id) const noexcept {
  return !mentioned_user_ids.empty() &&
         std::binary_search(mentioned_user_ids.begin(), mentioned_user_ids.end(), user_id);
}

const session::shared_tail& dispatch_event::redacted() const {
  std::call_once(redacted_made_, [this] {
    if (!redacted_tail.empty() || content_end <= content_begin) {
      return;  // given by the producer, or no content span to blank
    }
    const std::string_view full = full_tail.view();
    if (content_end > full.size()) {
      return;
    }
    std::string out;
    out.reserve(full.size() - (content_end - content_begin) + 2);
    out.append(full.substr(0, content_begin));
    out.append("\"\"");
    out.append(full.substr(content_end));
    redacted_tail = session::shared_tail{out};
  });
  return redacted_tail;
}

}  // namespace herald::relay
