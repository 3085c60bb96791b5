// SPDX-License-Identifier: Apache-2.0
#include "actors/relay/link_stream.hpp"

#include <utility>

#include "actors/relay/relay_stream.hpp"

namespace herald::relay {

void link_queue::add(uint64_t exporter_id, relay_wire::batch b) {
  waiting_.push_back(relay_wire::link_section{exporter_id, std::move(b)});
}

std::optional<relay_wire::link_batch> link_queue::next() {
  if (in_flight_ != 0 || waiting_.empty()) {
    return std::nullopt;
  }
  relay_wire::link_batch out;
  size_t bytes = 0;
  while (!waiting_.empty()) {
    auto n = payload_bytes(waiting_.front().items);
    if (!out.sections.empty() && bytes + n > max_link_bytes) {
      break;  // the rest leaves in the next link batch, still in order
    }
    bytes += n;
    out.sections.push_back(std::move(waiting_.front()));
    waiting_.pop_front();
  }
  out.seq = ++last_seq_;
  in_flight_ = out.seq;
  return out;
}

bool link_queue::ack(uint64_t seq) {
  if (seq == 0 || seq != in_flight_) {
    return false;
  }
  in_flight_ = 0;
  return true;
}

void split_link(relay_wire::link_batch& lb,
                const std::function<void(relay_wire::link_section&)>& ok,
                const std::function<void(relay_wire::link_section&, const std::string&)>& refused) {
  for (auto& s : lb.sections) {
    if (s.items.guild_id == 0 || s.items.seq == 0) {
      refused(s, "a section without a guild or a seq");
    } else if (auto err = check(s.items)) {
      refused(s, *err);
    } else {
      ok(s);
    }
  }
}

size_t link_event_count(const relay_wire::link_batch& lb) noexcept {
  size_t n = 0;
  for (const auto& s : lb.sections) {
    n += event_count(s.items);
  }
  return n;
}

size_t link_payload_bytes(const relay_wire::link_batch& lb) noexcept {
  size_t n = 8;
  for (const auto& s : lb.sections) {
    n += 8 + payload_bytes(s.items);
  }
  return n;
}

}  // namespace herald::relay
