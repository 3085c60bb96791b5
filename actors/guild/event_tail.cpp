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

// Reads fixed-size values from a stored event; fails (ok = false) instead of reading past it.
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

}  // namespace

std::string encode_tail_event(const relay::dispatch_event& event, uint64_t channel_id) {
  std::string out;
  const auto tail = event.full_tail.view();
  out.reserve(40 + 8 * event.mentioned_user_ids.size() + tail.size());
  put<uint8_t>(out, tail_event_version);
  put<uint8_t>(out, static_cast<uint8_t>(tail_kind::frame));
  put<uint64_t>(out, channel_id);
  put<uint32_t>(out, event.required_intents);
  put<uint8_t>(out, event.content_gated ? 1 : 0);
  put<uint64_t>(out, event.author_id);
  put<uint32_t>(out, event.content_begin);
  put<uint32_t>(out, event.content_end);
  put<uint32_t>(out, static_cast<uint32_t>(event.mentioned_user_ids.size()));
  for (auto id : event.mentioned_user_ids) {
    put<uint64_t>(out, id);
  }
  out.append(tail.data(), tail.size());
  return out;
}

std::string encode_tail_message(tail_kind kind, uint64_t message_id) {
  std::string out;
  out.reserve(10);
  put<uint8_t>(out, tail_event_version);
  put<uint8_t>(out, static_cast<uint8_t>(kind));
  put<uint64_t>(out, message_id);
  return out;
}

std::optional<relay::dispatch_event_ptr> decode_tail_event(const store::tail_event& row,
                                                           uint64_t guild_id,
                                                           const channel_slot_of& slot_of,
                                                           const message_rebuild& rebuild) {
  reader r{row.event_};
  const auto version = r.get<uint8_t>();
  const auto kind = r.get<uint8_t>();
  if (!r.ok || version != tail_event_version) {
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
      ev->epoch = row.epoch_;
      ev->guild_order = row.order_;
    }
    return relay::dispatch_event_ptr{std::move(ev)};
  }
  if (kind != static_cast<uint8_t>(tail_kind::frame)) {
    return std::nullopt;
  }
  auto ev = caf::make_counted<relay::dispatch_event>();
  ev->guild_id = guild_id;
  ev->epoch = row.epoch_;
  ev->guild_order = row.order_;
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
