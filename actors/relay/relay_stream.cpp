// SPDX-License-Identifier: Apache-2.0
#include "actors/relay/relay_stream.hpp"

#include <algorithm>
#include <memory>
#include <unordered_map>
#include <utility>

#include <caf/make_counted.hpp>

namespace herald::relay {

namespace {

relay_wire::view to_wire(const view_snapshot& v) {
  return relay_wire::view{v.classes(), v.words(), v.bits()};
}

bool valid(const relay_wire::view& v) {
  return static_cast<uint64_t>(v.classes) * v.words == v.bits.size();
}

view_snapshot_ptr from_wire(relay_wire::view& v) {
  return view_snapshot_ptr{caf::make_counted<view_snapshot>(v.classes, v.words, std::move(v.bits))};
}

bool valid(const relay_wire::event& e) {
  return !e.full_tail.empty() && e.content_begin <= e.content_end &&
         e.content_end <= e.full_tail.size();
}

bool valid(const relay_wire::view_update& u) {
  return valid(u.snapshot) && u.changed_users.size() == u.changed_classes.size() &&
         u.changed_slots.size() == u.create_tails.size() &&
         u.changed_slots.size() == u.delete_tails.size();
}

bool valid(const relay_wire::view_reset& r) {
  return valid(r.snapshot) && r.users.size() == r.classes.size();
}

}  // namespace

void export_queue::add(const dispatch_event& event) {
  relay_wire::event e;
  e.guild_order = event.guild_order;
  e.channel_slot = event.channel_slot;
  e.required_intents = event.required_intents;
  e.content_gated = event.content_gated;
  e.author_id = event.author_id;
  e.mentioned_user_ids = event.mentioned_user_ids;
  e.full_tail.tail = event.full_tail;  // a reference: serialised straight from the guild's bytes
  e.content_begin = event.content_begin;
  e.content_end = event.content_end;
  // No redacted tail: the receiving relay's dispatch_event makes it from full_tail and the
  // content span when one of its sessions needs it, as a local one does. Sending it would
  // double the bytes of every gated event and make it here for nobody.
  pending_.kinds.push_back(static_cast<uint8_t>(relay_wire::kind::event));
  pending_.events.push_back(std::move(e));
}

void export_queue::add(const view_update& update) {
  relay_wire::view_update u;
  u.snapshot = to_wire(*update.view);
  for (const auto& [user, cls] : update.class_changes) {
    u.changed_users.push_back(user);
    u.changed_classes.push_back(cls);
  }
  u.changed_slots = update.changed_slots;
  u.create_tails = update.create_tails;
  u.delete_tails = update.delete_tails;
  pending_.kinds.push_back(static_cast<uint8_t>(relay_wire::kind::view_update));
  pending_.view_updates.push_back(std::move(u));
}

void export_queue::add(const view_reset& reset) {
  relay_wire::view_reset r;
  r.snapshot = to_wire(*reset.view);
  r.users.reserve(reset.class_of_user->size());
  r.classes.reserve(reset.class_of_user->size());
  for (const auto& [user, cls] : *reset.class_of_user) {
    r.users.push_back(user);
    r.classes.push_back(cls);
  }
  pending_.kinds.push_back(static_cast<uint8_t>(relay_wire::kind::view_reset));
  pending_.view_resets.push_back(std::move(r));
}

void export_queue::add(relay_wire::subscriber sub) {
  pending_.kinds.push_back(static_cast<uint8_t>(relay_wire::kind::subscriber));
  pending_.subscribers.push_back(std::move(sub));
}

void export_queue::add(relay_wire::notice n) {
  pending_.kinds.push_back(static_cast<uint8_t>(relay_wire::kind::notice));
  pending_.notices.push_back(n);
}

std::optional<relay_wire::batch> export_queue::next() {
  if (in_flight_ != 0 || pending_.kinds.empty()) {
    return std::nullopt;
  }
  relay_wire::batch out = std::move(pending_);
  pending_ = relay_wire::batch{};
  out.guild_id = guild_id_;
  out.seq = ++last_seq_;
  in_flight_ = out.seq;
  return out;
}

bool export_queue::ack(uint64_t seq) {
  if (seq == 0 || seq != in_flight_) {
    return false;
  }
  in_flight_ = 0;
  return true;
}

std::optional<std::string> check(const relay_wire::batch& b) {
  using relay_wire::kind;
  size_t counts[5] = {0, 0, 0, 0, 0};
  for (auto k : b.kinds) {
    if (k > static_cast<uint8_t>(kind::notice)) {
      return "unknown item kind " + std::to_string(k);
    }
    ++counts[k];
  }
  if (counts[0] != b.events.size() || counts[1] != b.view_updates.size() ||
      counts[2] != b.view_resets.size() || counts[3] != b.subscribers.size() ||
      counts[4] != b.notices.size()) {
    return "item counts do not match the batch's kinds";
  }
  if (!std::all_of(b.events.begin(), b.events.end(), [](auto& e) { return valid(e); }) ||
      !std::all_of(b.view_updates.begin(), b.view_updates.end(),
                   [](auto& u) { return valid(u); }) ||
      !std::all_of(b.view_resets.begin(), b.view_resets.end(), [](auto& r) { return valid(r); })) {
    return "malformed item (view size, parallel vectors or tail span)";
  }
  return std::nullopt;
}

std::optional<std::string> decode(relay_wire::batch& b, uint64_t guild_id,
                                  const decoded_sink& sink) {
  using relay_wire::kind;
  if (b.guild_id != guild_id) {
    return "batch for guild " + std::to_string(b.guild_id) + " sent to the relay of guild " +
           std::to_string(guild_id);
  }
  // Check everything first: a batch is applied whole or not at all.
  if (auto err = check(b)) {
    return err;
  }
  size_t next[5] = {0, 0, 0, 0, 0};
  std::vector<dispatch_event_ptr> run;
  auto flush_run = [&] {
    if (!run.empty()) {
      sink.on_events(run);
      run.clear();
    }
  };
  for (auto k : b.kinds) {
    switch (static_cast<kind>(k)) {
      case kind::event: {
        auto& e = b.events[next[0]++];
        auto ev = caf::make_counted<dispatch_event>();
        ev->guild_id = guild_id;
        ev->guild_order = e.guild_order;
        ev->channel_slot = e.channel_slot;
        ev->required_intents = e.required_intents;
        ev->content_gated = e.content_gated;
        ev->author_id = e.author_id;
        std::sort(e.mentioned_user_ids.begin(), e.mentioned_user_ids.end());
        e.mentioned_user_ids.erase(
            std::unique(e.mentioned_user_ids.begin(), e.mentioned_user_ids.end()),
            e.mentioned_user_ids.end());
        ev->mentioned_user_ids = std::move(e.mentioned_user_ids);
        ev->full_tail = std::move(e.full_tail.tail);  // read from the wire into its block
        ev->content_begin = e.content_begin;
        ev->content_end = e.content_end;
        if (!e.redacted_tail.empty()) {
          ev->redacted_tail = std::move(e.redacted_tail.tail);
        }
        run.emplace_back(std::move(ev));
        break;
      }
      case kind::view_update: {
        flush_run();
        auto& u = b.view_updates[next[1]++];
        auto update = caf::make_counted<view_update>();
        update->view = from_wire(u.snapshot);
        for (size_t i = 0; i < u.changed_users.size(); ++i) {
          update->class_changes.emplace_back(u.changed_users[i], u.changed_classes[i]);
        }
        update->changed_slots = std::move(u.changed_slots);
        update->create_tails = std::move(u.create_tails);
        update->delete_tails = std::move(u.delete_tails);
        sink.on_view_update(view_update_ptr{std::move(update)});
        break;
      }
      case kind::view_reset: {
        flush_run();
        auto& r = b.view_resets[next[2]++];
        auto classes = std::make_shared<std::unordered_map<uint64_t, uint32_t>>();
        classes->reserve(r.users.size());
        for (size_t i = 0; i < r.users.size(); ++i) {
          classes->emplace(r.users[i], r.classes[i]);
        }
        // Over the wire the reset's guild order is not known (relay_messages.hpp).
        sink.on_view_reset(view_reset{from_wire(r.snapshot), std::move(classes), std::nullopt});
        break;
      }
      case kind::subscriber:
        flush_run();
        sink.on_subscriber(b.subscribers[next[3]++]);
        break;
      case kind::notice:
        flush_run();
        sink.on_notice(b.notices[next[4]++]);
        break;
    }
  }
  flush_run();
  return std::nullopt;
}

size_t event_count(const relay_wire::batch& b) noexcept {
  return b.events.size();
}

size_t payload_bytes(const relay_wire::batch& b) noexcept {
  size_t n = 16 + b.kinds.size();
  for (const auto& e : b.events) {
    n += 37 + 8 * e.mentioned_user_ids.size() + e.full_tail.size() + e.redacted_tail.size();
  }
  auto view_bytes = [](const relay_wire::view& v) { return 8 + 8 * v.bits.size(); };
  for (const auto& u : b.view_updates) {
    n += view_bytes(u.snapshot) + 12 * u.changed_users.size() + 4 * u.changed_slots.size();
    for (const auto& t : u.create_tails) {
      n += t.size();
    }
    for (const auto& t : u.delete_tails) {
      n += t.size();
    }
  }
  for (const auto& r : b.view_resets) {
    n += view_bytes(r.snapshot) + 12 * r.users.size();
  }
  for (const auto& s : b.subscribers) {
    n += 13 + s.guild_create_tail.size() + s.error.size();
  }
  n += 9 * b.notices.size();
  return n;
}

}  // namespace herald::relay
