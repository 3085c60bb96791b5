// SPDX-License-Identifier: Apache-2.0
#include "actors/relay/recent_events.hpp"

namespace herald::relay {

void recent_events::push(const dispatch_event_ptr& event) {
  if (!floor_) {
    floor_ = event->guild_order - 1;  // what came before the first event is unknown
  }
  last_order_ = event->guild_order;
  if (max_events_ == 0) {
    floor_ = last_order_;
    return;
  }
  events_.push_back(event);
  bytes_ += event->full_tail.view().size();
  while (events_.size() > max_events_ || (bytes_ > max_bytes_ && events_.size() > 1)) {
    evict_oldest();
  }
}

void recent_events::evict_oldest() {
  floor_ = events_.front()->guild_order;
  bytes_ -= events_.front()->full_tail.view().size();
  events_.pop_front();
}

void recent_events::reset(std::optional<uint64_t> position) noexcept {
  events_.clear();
  bytes_ = 0;
  last_order_ = position.value_or(0);
  floor_ = position;
}

bool recent_events::covers(uint64_t cursor) const noexcept {
  if (!floor_) {
    return false;  // a fresh feed: where it started in the guild's order is unknown
  }
  return cursor >= last_order_ || cursor >= *floor_;
}

}  // namespace herald::relay
