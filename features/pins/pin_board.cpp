// SPDX-License-Identifier: Apache-2.0
#include "features/pins/pin_board.hpp"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <spdlog/spdlog.h>
#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/dispatch/commands.hpp"
#include "actors/domain/permission_bits.hpp"
#include "actors/domain/snowflake.hpp"
#include "actors/feature/feature_state.hpp"
#include "actors/feature/keyed_service.hpp"
#include "actors/feature/ordered_publisher.hpp"
#include "actors/feature/permission_check.hpp"
#include "actors/outbound/intents.hpp"
#include "runtime/metrics/actor_metrics.hpp"
#include "runtime/supervision/worker.hpp"

namespace herald::pins {

const feature::error_category<pins_errc> pins_errors{
    caf::atom("pins"), "pins", [](pins_errc) { return "too_many"; },
    [](pins_errc) {
      return dispatch::client_error{400, 30003, "Maximum number of pins reached (50)", {}};
    }};

namespace {

constexpr const char* feature_name = "pins";

std::string channel_prefix(uint64_t channel_id) {
  return std::to_string(channel_id) + "/";
}

std::string key_of(uint64_t channel_id, uint64_t message_id) {
  return channel_prefix(channel_id) + std::to_string(message_id);
}

struct board_state {
  uint64_t channel_id = 0;
  uint64_t guild_id = 0;
  /// Newest first; what the guild committed (the store holds the same).
  std::vector<pin> pins;
  std::optional<feature::ordered_publisher> publisher;
  std::optional<feature::feature_state> stored;
  metrics::counter* handled = nullptr;
  static constexpr const char* name = "pin_board";
};

using board_actor = caf::stateful_actor<board_state>;

auto find_pin(board_state& st, uint64_t message_id) {
  return std::find_if(st.pins.begin(), st.pins.end(),
                      [message_id](const pin& p) { return p.message_id == message_id; });
}

// CHANNEL_PINS_UPDATE as Discord sends it, with the board's newest pin after the change.
proto::event pins_update(const board_state& st, const std::vector<pin>& after, uint64_t message_id,
                         const feature::permission_check& check) {
  std::string last =
      after.empty() ? "null" : "\"" + domain::format_iso8601(after.front().pinned_at_ms) + "\"";
  proto::event ev;
  ev.set_guild_id(st.guild_id);
  auto* custom = ev.mutable_custom();
  custom->set_name("CHANNEL_PINS_UPDATE");
  custom->set_channel_id(st.channel_id);
  custom->set_message_id(message_id);
  custom->set_intents(session::guilds_intent);
  custom->set_payload_json("{\"guild_id\":\"" + std::to_string(st.guild_id) +
                           "\",\"channel_id\":\"" + std::to_string(st.channel_id) +
                           "\",\"last_pin_timestamp\":" + last + "}");
  check.apply_to(*custom);
  return ev;
}

// Queues a pin or unpin: answered false at once when it changes nothing, else published with
// its state write and applied on the guild's ack. One publish in flight (ordered_publisher).
caf::result<bool> enqueue(board_actor* self, bool pinning, uint64_t message_id,
                          feature::permission_check check) {
  self->state.handled->inc();
  check.required = permissions::pin_messages;
  auto promise = self->make_response_promise();
  auto after = std::make_shared<std::vector<pin>>();
  feature::ordered_change step;
  step.prepare = [self, pinning, message_id, check, promise,
                  after]() mutable -> std::optional<proto::event> {
    auto& st = self->state;
    auto it = find_pin(st, message_id);
    if ((it != st.pins.end()) == pinning) {
      promise.deliver(false);
      return std::nullopt;
    }
    feature::state_writes writes{feature_name};
    *after = st.pins;
    if (pinning) {
      if (st.pins.size() >= max_pins) {
        promise.deliver(pins_errors.make(pins_errc::too_many));
        return std::nullopt;
      }
      auto now = domain::system_clock_ms();
      after->insert(after->begin(), pin{message_id, now});
      writes.put(key_of(st.channel_id, message_id), std::to_string(now));
    } else {
      after->erase(after->begin() + (it - st.pins.begin()));
      writes.erase(key_of(st.channel_id, message_id));
    }
    auto ev = pins_update(st, *after, message_id, check);
    writes.apply_to(*ev.mutable_custom());
    return ev;
  };
  step.done = [self, after, promise](caf::expected<guild::publish_ack> acked) mutable {
    if (!acked) {
      promise.deliver(std::move(acked.error()));
      return;
    }
    self->state.pins = std::move(*after);
    promise.deliver(true);
  };
  self->state.publisher->push(std::move(step));
  return promise;
}

// An observed MESSAGE_DELETE: its pin goes, in memory now and in the store through the writer
// (the guild refuses pins of a deleted message, so nothing re-adds it). CHANNEL_DELETE: memory
// only (the feature's observer drops the stored pins). No CHANNEL_PINS_UPDATE: clients got the
// delete itself.
void forget(board_actor* self, const dispatch::core_event& ev) {
  auto& st = self->state;
  if (ev.kind == dispatch::core_event_kind::channel_delete) {
    st.pins.clear();
    return;
  }
  feature::state_writes writes{feature_name};
  for (auto id : ev.message_ids) {
    if (auto it = find_pin(st, id); it != st.pins.end()) {
      st.pins.erase(it);
      writes.erase(key_of(st.channel_id, id));
    }
  }
  if (writes.empty()) {
    return;
  }
  auto failed = [channel = st.channel_id](const caf::error& err) {
    if (err) {
      spdlog::warn("pins of channel {}: dropping deleted pins failed: {}", channel,
                   pins_errors.describe(err));
    }
  };
  if (auto err = st.stored->submit(writes, failed)) {
    failed(err);
  }
}

caf::behavior pin_board(board_actor* self, dispatch::services_ptr svc, uint64_t channel_id,
                        uint64_t guild_id, const std::vector<feature::state_entry>& stored) {
  auto& st = self->state;
  st.channel_id = channel_id;
  st.guild_id = guild_id;
  for (const auto& e : stored) {
    auto message_id = domain::parse_snowflake(e.key_.substr(channel_prefix(channel_id).size()));
    if (message_id) {
      st.pins.push_back(pin{*message_id, std::strtoll(e.value_.c_str(), nullptr, 10)});
    }
  }
  std::stable_sort(st.pins.begin(), st.pins.end(),
                   [](const pin& a, const pin& b) { return a.pinned_at_ms > b.pinned_at_ms; });
  st.stored.emplace(svc, feature_name);
  st.publisher.emplace(self, std::move(svc));
  st.handled = &metrics::messages_handled(board_kind);
  return {
      [self](pin_atom, uint64_t message_id, feature::permission_check check) {
        return enqueue(self, true, message_id, check);
      },
      [self](unpin_atom, uint64_t message_id, feature::permission_check check) {
        return enqueue(self, false, message_id, check);
      },
      [self](list_atom) {
        self->state.handled->inc();
        return pin_list{self->state.pins};
      },
      [self](feature::observed_atom, const dispatch::core_event& ev) {
        self->state.handled->inc();
        forget(self, ev);
      },
  };
}

}  // namespace

caf::expected<caf::actor> spawn_pin_board(caf::actor_system& sys, dispatch::services_ptr svc,
                                          uint64_t channel_id) {
  auto guild_id = dispatch::guild_of_channel(svc, channel_id);
  if (!guild_id) {
    return std::move(guild_id.error());
  }
  // The channel's pins as the guild committed them (a blocking read, once per start).
  auto stored = feature::feature_state{svc, feature_name}.load(channel_prefix(channel_id));
  if (!stored) {
    return std::move(stored.error());
  }
  return supervision::spawn_worker(sys, pin_board, std::move(svc), channel_id, *guild_id,
                                   std::move(*stored));
}

}  // namespace herald::pins
