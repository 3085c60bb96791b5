// SPDX-License-Identifier: Apache-2.0
#include "runtime/cluster/link_table.hpp"

#include <algorithm>

namespace herald::cluster {

link_table::link_table(link_backoff b) : backoff_(b) {}

std::vector<uint16_t> link_table::set_wanted(const std::vector<wire::member_info>& up,
                                             time_point now) {
  std::vector<uint16_t> forgotten;
  std::map<uint16_t, peer> next;
  for (const auto& info : up) {
    auto it = peers_.find(info.node_id);
    if (it != peers_.end() && it->second.info.instance == info.instance &&
        it->second.info.address == info.address) {
      auto kept = std::move(it->second);
      kept.info = info;  // a new incarnation of the same process keeps its link
      next.emplace(info.node_id, std::move(kept));
      continue;
    }
    peer fresh;
    fresh.info = info;
    fresh.next_at = now;
    next.emplace(info.node_id, std::move(fresh));
  }
  for (const auto& [id, p] : peers_) {
    auto it = next.find(id);
    if (p.linked && (it == next.end() || !it->second.linked)) {
      forgotten.push_back(id);
    }
  }
  peers_ = std::move(next);
  return forgotten;
}

std::vector<wire::member_info> link_table::due(time_point now) {
  std::vector<wire::member_info> out;
  for (auto& [id, p] : peers_) {
    if (!p.linked && !p.dialing && p.next_at <= now) {
      p.dialing = true;
      out.push_back(p.info);
    }
  }
  return out;
}

std::optional<link_table::time_point> link_table::next_due() const {
  std::optional<time_point> out;
  for (const auto& [id, p] : peers_) {
    if (!p.linked && !p.dialing && (!out || p.next_at < *out)) {
      out = p.next_at;
    }
  }
  return out;
}

link_table::peer* link_table::current(uint16_t node_id, uint64_t instance) {
  auto it = peers_.find(node_id);
  if (it == peers_.end() || it->second.info.instance != instance) {
    return nullptr;
  }
  return &it->second;
}

bool link_table::on_linked(uint16_t node_id, uint64_t instance) {
  auto* p = current(node_id, instance);
  if (p == nullptr) {
    return false;
  }
  p->linked = true;
  p->dialing = false;
  p->failures = 0;
  p->logged_at.reset();
  return true;
}

std::optional<link_table::failure> link_table::on_failed(uint16_t node_id, uint64_t instance,
                                                         time_point now) {
  auto* p = current(node_id, instance);
  if (p == nullptr || p->linked) {
    return std::nullopt;
  }
  p->dialing = false;
  ++p->failures;
  auto delay = backoff_.first;
  for (uint32_t i = 1; i < p->failures && delay < backoff_.max; ++i) {
    delay *= 2;
  }
  delay = std::min(delay, backoff_.max);
  p->next_at = now + delay;
  failure f;
  f.in_a_row = p->failures;
  f.retry_in = delay;
  f.log = !p->logged_at || now - *p->logged_at >= backoff_.log_every;
  if (f.log) {
    p->logged_at = now;
  }
  return f;
}

bool link_table::on_lost(uint16_t node_id, uint64_t instance, time_point now) {
  auto* p = current(node_id, instance);
  if (p == nullptr || !p->linked) {
    return false;
  }
  p->linked = false;
  p->dialing = false;
  p->next_at = now + backoff_.first;
  return true;
}

std::vector<uint16_t> link_table::linked() const {
  std::vector<uint16_t> out;
  for (const auto& [id, p] : peers_) {
    if (p.linked) {
      out.push_back(id);
    }
  }
  return out;
}

const wire::member_info* link_table::find(uint16_t node_id) const {
  auto it = peers_.find(node_id);
  return it == peers_.end() ? nullptr : &it->second.info;
}

}  // namespace herald::cluster
