// SPDX-License-Identifier: Apache-2.0
#include "actors/relay/partition_core.hpp"

#include <algorithm>

namespace herald::relay {

namespace {

// References a fan-out loop takes up front on an event's tails: one per
// subscriber, in ONE atomic add per tail, so that the loop itself (one
// append_counted per recipient) touches no shared cache line; give_back()
// returns the ones not used. The event holds its own reference meanwhile, so
// a session evicting a frame during the loop never frees the tail. The
// redacted tail is made lazily (dispatch_event::redacted): its references are
// taken in one add when the first recipient that needs it shows up.
struct tail_refs {
  session::tail_block* full = nullptr;
  session::tail_block* redacted = nullptr;
  uint32_t taken = 0;  // references taken up front on each tail
  uint32_t full_used = 0;
  uint32_t redacted_used = 0;

  tail_refs(const dispatch_event& event, uint32_t n) noexcept
      : full(n == 0 ? nullptr : event.full_tail.block()), taken(n) {
    if (full != nullptr) {
      session::retain_tail(full, n);
    }
  }
  // The tail block for `tail`, counted as used; null if `tail` is empty.
  session::tail_block* take(const session::shared_tail& tail) noexcept {
    auto* b = tail.block();
    if (b != nullptr && b == full) {
      ++full_used;
    } else if (b != nullptr && b == redacted) {
      ++redacted_used;
    } else if (b != nullptr && redacted == nullptr && taken > 0) {
      redacted = b;  // the event's redacted tail, first needed now
      session::retain_tail(b, taken);
      ++redacted_used;
    } else if (b != nullptr) {
      session::retain_tail(b);  // not expected: tails come from the event
    }
    return b;
  }
  void give_back(uint32_t n) noexcept {
    if (full != nullptr && n > full_used) {
      session::release_tail(full, n - full_used);
    }
    if (redacted != nullptr && n > redacted_used) {
      session::release_tail(redacted, n - redacted_used);
    }
  }
};

uint64_t append_tail(session::outbound_buffer::writer& w, tail_refs& refs,
                     const session::shared_tail& tail) {
  auto* b = refs.take(tail);
  if (b == nullptr) {
    return w.append(std::string_view{});
  }
  return w.append_counted(b);
}

}  // namespace

bool partition_core::add(session::session_output_ptr output, uint32_t view_class,
                         const std::string& first_tail) {
  auto id = output->session_id();
  if (!index_by_session_.emplace(id, static_cast<uint32_t>(subscribers_.size())).second) {
    return false;
  }
  if (!first_tail.empty()) {
    // GUILD_CREATE: a snapshot frame, released once collected (outbound_buffer).
    output->buffer().append_snapshot(first_tail);
  }
  auto user = output->user_id();
  auto granted = output->granted();
  subscribers_.push_back({std::move(output), user, view_class, granted});
  return true;
}

bool partition_core::add_with_backlog(session::session_output_ptr output, uint32_t view_class,
                                      const std::vector<const dispatch_event*>& backlog) {
  if (!add(std::move(output), view_class, std::string{})) {
    return false;
  }
  const auto& s = subscribers_.back();
  for (const auto* event : backlog) {
    if (eligible(s, *event)) {
      s.output->buffer().append_shared(event->tail_for(s.user_id, s.granted));
    }
  }
  return true;
}

bool partition_core::remove(uint64_t session_id) {
  auto it = index_by_session_.find(session_id);
  if (it == index_by_session_.end()) {
    return false;
  }
  uint32_t slot = it->second;
  index_by_session_.erase(it);
  if (slot + 1 != subscribers_.size()) {
    subscribers_[slot] = std::move(subscribers_.back());
    index_by_session_[subscribers_[slot].output->session_id()] = slot;
  }
  subscribers_.pop_back();
  return true;
}

size_t partition_core::remove_user(uint64_t user_id) {
  std::vector<uint64_t> sessions;
  for (const auto& s : subscribers_) {
    if (s.user_id == user_id) {
      tell_departed(s);
      sessions.push_back(s.output->session_id());
    }
  }
  for (auto id : sessions) {
    remove(id);
  }
  return sessions.size();
}

size_t partition_core::deliver(const dispatch_event& event) {
  // Hot path: one pass over a flat array, one bit test and one intent test
  // per subscriber, one append per recipient; no allocation.
  // Memory latency, not work, bounds this loop: each session's buffer is a
  // cache miss. Prefetching a few subscribers ahead overlaps those misses.
  constexpr size_t lookahead = 8;
  const size_t n = subscribers_.size();
  size_t delivered = 0;
  bool saw_closed = false;
  tail_refs refs{event, static_cast<uint32_t>(n)};
  for (size_t i = 0; i < n; ++i) {
    if (i + 2 * lookahead < n) {
      // The buffer's first line, which the next stage reads its write position from.
      __builtin_prefetch(&subscribers_[i + 2 * lookahead].output->buffer(), 1);
    }
    if (i + lookahead < n) {
      subscribers_[i + lookahead].output->buffer().prefetch_next_write();
    }
    auto& s = subscribers_[i];
    if (!eligible(s, event)) {
      continue;
    }
    session::outbound_buffer::writer writer{s.output->buffer()};
    if (append_tail(writer, refs, event.tail_for(s.user_id, s.granted)) != 0) {
      ++delivered;
    } else {
      saw_closed = true;
    }
  }
  refs.give_back(static_cast<uint32_t>(n));
  if (saw_closed) {
    drop_closed();
  }
  return delivered;
}

void partition_core::deliver(const std::vector<dispatch_event_ptr>& events,
                             std::vector<size_t>& delivered) {
  // Session-major: each session's buffer header is missed and locked once
  // per batch, and its frames are written back to back (sequential stores
  // the hardware prefetcher follows), instead of once per event.
  constexpr size_t lookahead = 4;
  delivered.assign(events.size(), 0);
  const size_t n = subscribers_.size();
  const size_t k = events.size();
  bool saw_closed = false;
  std::vector<tail_refs> refs;
  refs.reserve(k);
  for (size_t e = 0; e < k; ++e) {
    refs.emplace_back(*events[e], static_cast<uint32_t>(n));
  }
  for (size_t i = 0; i < n; ++i) {
    if (i + 2 * lookahead < n) {
      // The buffer's first line, which the next stage reads its write position from.
      __builtin_prefetch(&subscribers_[i + 2 * lookahead].output->buffer(), 1);
    }
    if (i + lookahead < n) {
      subscribers_[i + lookahead].output->buffer().prefetch_next_write();
    }
    auto& s = subscribers_[i];
    auto& buffer = s.output->buffer();
    if (buffer.closed()) {
      saw_closed = true;
      continue;
    }
    session::outbound_buffer::writer writer{buffer};
    for (size_t e = 0; e < k; ++e) {
      const dispatch_event& event = *events[e];
      if (!eligible(s, event)) {
        continue;
      }
      if (append_tail(writer, refs[e], event.tail_for(s.user_id, s.granted)) == 0) {
        saw_closed = true;  // closed between the check and the lock
        break;
      }
      ++delivered[e];
    }
  }
  for (auto& r : refs) {
    r.give_back(static_cast<uint32_t>(n));
  }
  if (saw_closed) {
    drop_closed();
  }
}

void partition_core::tell_departed(const subscriber& s) {
  if (!departed_tail_.empty() && (s.granted & session::guilds_intent) != 0) {
    s.output->buffer().append_dispatch(departed_tail_);
  }
}

void partition_core::drop_closed() {
  std::vector<uint64_t> closed;
  for (const auto& s : subscribers_) {
    if (s.output->closed()) {
      closed.push_back(s.output->session_id());
    }
  }
  for (auto id : closed) {
    remove(id);
  }
}

size_t partition_core::apply(const view_update& update) {
  const view_snapshot& old_view = *view_;
  const view_snapshot& new_view = *update.view;
  size_t written = 0;
  for (auto& s : subscribers_) {
    uint32_t old_class = s.view_class;
    auto change = std::lower_bound(update.class_changes.begin(), update.class_changes.end(),
                                   std::pair<uint64_t, uint32_t>{s.user_id, 0},
                                   [](const auto& a, const auto& b) { return a.first < b.first; });
    if (change != update.class_changes.end() && change->first == s.user_id) {
      s.view_class = change->second;
    }
    if ((s.granted & session::guilds_intent) == 0) {
      continue;  // CHANNEL_* events belong to the GUILDS intent
    }
    for (size_t i = 0; i < update.changed_slots.size(); ++i) {
      uint32_t slot = update.changed_slots[i];
      bool before = old_view.can_view(old_class, slot);
      bool after = new_view.can_view(s.view_class, slot);
      if (!before && after && !update.create_tails[i].empty()) {
        s.output->buffer().append_dispatch(update.create_tails[i]);
        ++written;
      } else if (before && !after && !update.delete_tails[i].empty()) {
        s.output->buffer().append_dispatch(update.delete_tails[i]);
        ++written;
      }
    }
  }
  view_ = update.view;
  return written;
}

size_t partition_core::reset(view_snapshot_ptr view,
                             const std::unordered_map<uint64_t, uint32_t>& class_of_user) {
  std::vector<uint64_t> departed;
  for (auto& s : subscribers_) {
    auto it = class_of_user.find(s.user_id);
    if (it == class_of_user.end()) {
      tell_departed(s);
      departed.push_back(s.output->session_id());
    } else {
      s.view_class = it->second;
    }
  }
  for (auto id : departed) {
    remove(id);
  }
  view_ = std::move(view);
  return departed.size();
}

std::vector<uint64_t> partition_core::sync(stream_position at,
                                           const std::optional<stream_position>& replay_from,
                                           const std::string& unavailable_tail) {
  std::vector<uint64_t> users;
  if (subscribers_.empty()) {
    cursor_ = replay_from ? *replay_from : at;
    return users;
  }
  if (!replay_from || !(cursor_ < *replay_from)) {
    return users;  // no replay, or it covers everything after the cursor
  }
  // The replay starts after events this partition never got: its sessions cannot be brought up
  // to date event by event, so they start over (Discord's resync: the guild is unavailable,
  // then created again).
  for (const auto& s : subscribers_) {
    if ((s.granted & session::guilds_intent) != 0) {
      s.output->buffer().append_dispatch(unavailable_tail);
    }
    users.push_back(s.user_id);
  }
  subscribers_.clear();
  index_by_session_.clear();
  cursor_ = *replay_from;
  std::sort(users.begin(), users.end());
  users.erase(std::unique(users.begin(), users.end()), users.end());
  return users;
}

bool partition_core::take(const dispatch_event& event) noexcept {
  if (!event.position().known()) {
    return true;
  }
  if (event.position() <= cursor_) {
    return false;
  }
  cursor_ = event.position();
  return true;
}

size_t partition_core::take_batch(const std::vector<dispatch_event_ptr>& events,
                                  std::vector<dispatch_event_ptr>& fresh) {
  fresh.clear();
  size_t dropped = 0;
  for (size_t k = 0; k < events.size(); ++k) {
    bool after = take(*events[k]);
    if (!after && dropped == 0) {
      fresh.assign(events.begin(), events.begin() + static_cast<std::ptrdiff_t>(k));
    }
    if (!after) {
      ++dropped;
    } else if (dropped != 0) {
      fresh.push_back(events[k]);
    }
  }
  return dropped;
}

}  // namespace herald::relay
