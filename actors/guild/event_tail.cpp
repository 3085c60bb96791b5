// SPDX-License-Identifier: Apache-2.0
#include "actors/guild/event_tail.hpp"

#include <cstring>

#include <caf/make_counted.hpp>

namespace herald::guild {

namespace {

template <class T>
void put(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));  // little-endian hosts only (x86-64, aarch64)
  out.append(bytes, sizeof(T));
}

// Reads fixed-size values from a stored row; fails (ok = false) instead of reading past it.
struct reader {
  std::string_view in;
  bool ok = true;

  template <class T>
  T get() {
    T value{};
    if (in.size() < sizeof(T)) {
      ok = false;
      return value;
    }
    std::memcpy(&value, in.data(), sizeof(T));
    in.remove_prefix(sizeof(T));
    return value;
  }
};

// Where a version 2 row's event count sits: right after the version byte.
constexpr size_t count_offset = 1;
// A frame body's fixed part: kind, channel, intents, gate, author, span, mention count.
constexpr size_t frame_fixed = 1 + 8 + 4 + 1 + 8 + 4 + 4 + 4;
// A message body: kind and message id.
constexpr size_t message_body = 1 + 8;

// The event whose body is `body` (its kind and fields), at position `at`; a null pointer when
// there is nothing to replay, nullopt when the body does not decode.
std::optional<relay::dispatch_event_ptr> decode_body(std::string_view body,
                                                     relay::stream_position at, uint64_t guild_id,
                                                     const channel_slot_of& slot_of,
                                                     const message_rebuild& rebuild) {
  reader r{body};
  const auto kind = r.get<uint8_t>();
  if (!r.ok) {
    return std::nullopt;
  }
  if (kind == static_cast<uint8_t>(tail_kind::message_create) ||
      kind == static_cast<uint8_t>(tail_kind::message_update)) {
    const auto message_id = r.get<uint64_t>();
    if (!r.ok || !r.in.empty()) {
      return std::nullopt;
    }
    auto ev = rebuild(message_id, kind == static_cast<uint8_t>(tail_kind::message_update));
    if (ev) {
      if (ev->channel_slot == relay::no_channel_slot) {
        return relay::dispatch_event_ptr{};  // its channel was deleted since
      }
      ev->epoch = at.epoch;
      ev->guild_order = at.order;
    }
    return relay::dispatch_event_ptr{std::move(ev)};
  }
  if (kind != static_cast<uint8_t>(tail_kind::frame)) {
    return std::nullopt;
  }
  auto ev = caf::make_counted<relay::dispatch_event>();
  ev->guild_id = guild_id;
  ev->epoch = at.epoch;
  ev->guild_order = at.order;
  const auto channel_id = r.get<uint64_t>();
  ev->required_intents = r.get<uint32_t>();
  ev->content_gated = r.get<uint8_t>() != 0;
  ev->author_id = r.get<uint64_t>();
  ev->content_begin = r.get<uint32_t>();
  ev->content_end = r.get<uint32_t>();
  const auto mentions = r.get<uint32_t>();
  if (!r.ok || mentions > r.in.size() / sizeof(uint64_t)) {
    return std::nullopt;
  }
  ev->mentioned_user_ids.reserve(mentions);
  for (uint32_t i = 0; i < mentions; ++i) {
    ev->mentioned_user_ids.push_back(r.get<uint64_t>());
  }
  if (r.in.empty() || ev->content_begin > ev->content_end || ev->content_end > r.in.size()) {
    return std::nullopt;
  }
  ev->full_tail = session::shared_tail{r.in};
  if (channel_id != 0) {
    ev->channel_slot = slot_of(channel_id);
    if (ev->channel_slot == relay::no_channel_slot) {
      return relay::dispatch_event_ptr{};  // the channel was deleted since: nobody may see it
    }
  }
  return relay::dispatch_event_ptr{std::move(ev)};
}

}  // namespace

tail_row_writer::tail_row_writer() {
  put<uint8_t>(out_, tail_event_version);
  put<uint32_t>(out_, 0);  // the count, set by take()
}

void tail_row_writer::begin_event(uint64_t order, tail_kind kind, size_t body_size) {
  out_.reserve(out_.size() + 12 + body_size);
  put<uint64_t>(out_, order);
  put<uint32_t>(out_, static_cast<uint32_t>(body_size));
  put<uint8_t>(out_, static_cast<uint8_t>(kind));
  ++count_;
}

void tail_row_writer::add_frame(uint64_t order, const relay::dispatch_event& event,
                                uint64_t channel_id) {
  const auto tail = event.full_tail.view();
  begin_event(order, tail_kind::frame,
              frame_fixed + 8 * event.mentioned_user_ids.size() + tail.size());
  put<uint64_t>(out_, channel_id);
  put<uint32_t>(out_, event.required_intents);
  put<uint8_t>(out_, event.content_gated ? 1 : 0);
  put<uint64_t>(out_, event.author_id);
  put<uint32_t>(out_, event.content_begin);
  put<uint32_t>(out_, event.content_end);
  put<uint32_t>(out_, static_cast<uint32_t>(event.mentioned_user_ids.size()));
  for (auto id : event.mentioned_user_ids) {
    put<uint64_t>(out_, id);
  }
  out_.append(tail.data(), tail.size());
}

void tail_row_writer::add_message(uint64_t order, tail_kind kind, uint64_t message_id) {
  begin_event(order, kind, message_body);
  put<uint64_t>(out_, message_id);
}

std::string tail_row_writer::take() {
  std::memcpy(out_.data() + count_offset, &count_, sizeof(count_));
  std::string row = std::move(out_);
  out_.clear();
  count_ = 0;
  put<uint8_t>(out_, tail_event_version);
  put<uint32_t>(out_, 0);
  return row;
}

std::optional<std::vector<relay::dispatch_event_ptr>> decode_tail_row(
    const store::tail_event& row, relay::stream_position after, uint64_t guild_id,
    const channel_slot_of& slot_of, const message_rebuild& rebuild) {
  std::vector<relay::dispatch_event_ptr> out;
  // Rebuilds the event of `body` at `order` unless the reader had it; false: it does not decode.
  auto take = [&](std::string_view body, uint64_t order) {
    const relay::stream_position at{row.epoch_, order};
    if (at <= after) {
      return true;
    }
    auto ev = decode_body(body, at, guild_id, slot_of, rebuild);
    if (ev && *ev) {
      out.push_back(std::move(*ev));
    }
    return ev.has_value();
  };
  reader r{row.event_};
  const auto version = r.get<uint8_t>();
  if (r.ok && version == tail_single_event_version) {
    if (!take(r.in, row.order_)) {
      return std::nullopt;
    }
    return out;
  }
  const auto count = r.get<uint32_t>();
  if (!r.ok || version != tail_event_version || count == 0) {
    return std::nullopt;
  }
  uint64_t last = 0;
  for (uint32_t i = 0; i < count; ++i) {
    const auto order = r.get<uint64_t>();
    const auto size = r.get<uint32_t>();
    if (!r.ok || size > r.in.size() || (i > 0 && order <= last)) {
      return std::nullopt;
    }
    if (!take(r.in.substr(0, size), order)) {
      return std::nullopt;
    }
    r.in.remove_prefix(size);
    last = order;
  }
  if (!r.in.empty() || last != row.order_) {
    return std::nullopt;
  }
  return out;
}

bool tail_covers(const std::vector<store::tail_event>& rows, relay::stream_position cursor) {
  if (rows.empty()) {
    return true;
  }
  if (!(previous_of(rows.front()) <= cursor)) {
    return false;
  }
  for (size_t i = 1; i < rows.size(); ++i) {
    if (!(previous_of(rows[i]) == position_of(rows[i - 1]))) {
      return false;
    }
  }
  return true;
}

}  // namespace herald::guild
