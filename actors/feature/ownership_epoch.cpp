// SPDX-License-Identifier: Apache-2.0
#include "actors/feature/ownership_epoch.hpp"

#include "runtime/log/log.hpp"

namespace herald::feature {

namespace {

std::pair<uint64_t, uint64_t> epoch_of(const cluster::cluster_view& view) {
  std::pair<uint64_t, uint64_t> out{0, 0};
  if (auto ring = view.current_ring()) {
    out.first = ring->generation();
  }
  for (const auto& row : view.nodes()) {
    if (row.self) {
      out.second = row.incarnation;
    }
  }
  return out;
}

}  // namespace

ownership_epoch::ownership_epoch(std::shared_ptr<const cluster::cluster_view> view,
                                 std::vector<keyed_service_ptr> services)
    : view_(std::move(view)), services_(std::move(services)), last_(epoch_of(*view_)) {}

size_t ownership_epoch::check() {
  auto now = epoch_of(*view_);
  std::lock_guard<std::mutex> guard{mutex_};
  if (now == last_) {
    return 0;
  }
  last_ = now;
  size_t stopped = 0;
  for (const auto& service : services_) {
    stopped += service->stop_actors();
  }
  if (stopped > 0) {
    log::get("feature")->info(
        "ownership changed (ring generation {}, incarnation {}): stopped {} feature actors; they "
        "load their state again at their next use",
        now.first, now.second, stopped);
  }
  return stopped;
}

}  // namespace herald::feature
