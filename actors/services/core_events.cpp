// SPDX-License-Identifier: Apache-2.0
#include "actors/services/core_events.hpp"

#include <utility>

namespace herald::dispatch {

const char* name_of(core_event_kind k) {
  switch (k) {
    case core_event_kind::message_delete:
      return "MESSAGE_DELETE";
    case core_event_kind::channel_delete:
      return "CHANNEL_DELETE";
    case core_event_kind::member_remove:
      return "GUILD_MEMBER_REMOVE";
    case core_event_kind::role_update:
      return "GUILD_ROLE_UPDATE";
    case core_event_kind::role_delete:
      return "GUILD_ROLE_DELETE";
  }
  return "UNKNOWN";
}

void core_observers::add(std::string feature, core_event_mask kinds, core_observer observer) {
  if (kinds == 0 || !observer) {
    return;
  }
  std::lock_guard<std::mutex> guard{mutex_};
  auto next = std::make_shared<std::vector<entry>>(*entries_);
  next->push_back({std::move(feature), kinds, std::move(observer)});
  entries_ = std::move(next);
  mask_.fetch_or(kinds, std::memory_order_release);
}

void core_observers::clear() {
  std::shared_ptr<const std::vector<entry>> dropped;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    mask_.store(0, std::memory_order_release);
    dropped = std::exchange(entries_, std::make_shared<std::vector<entry>>());
  }
  // The observers (and what they hold) are destroyed here, outside the lock, unless a deliver()
  // in progress still holds them.
}

void core_observers::deliver(const core_event& ev) const {
  std::shared_ptr<const std::vector<entry>> entries;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    entries = entries_;
  }
  const auto bit = mask_of(ev.kind);
  for (const auto& e : *entries) {
    if ((e.kinds & bit) != 0) {
      e.observer(ev);
    }
  }
}

}  // namespace herald::dispatch
