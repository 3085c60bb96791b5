// SPDX-License-Identifier: Apache-2.0
#include "actors/feature/ordered_publisher.hpp"

#include <utility>

#include "actors/dispatch/route_publish.hpp"

namespace herald::feature {

ordered_publisher::ordered_publisher(caf::event_based_actor* self, dispatch::services_ptr svc)
    : self_(self), svc_(std::move(svc)) {}

void ordered_publisher::push(ordered_change change) {
  queue_.push_back(std::move(change));
  pump();
}

// Answers changes that need no publish at once; stops at the first one that does.
void ordered_publisher::pump() {
  while (!publishing_ && !queue_.empty()) {
    auto event = queue_.front().prepare();
    if (!event) {
      queue_.pop_front();
      continue;
    }
    publishing_ = true;
    publish_front(std::move(*event));
    return;
  }
}

// To the guild's owner, as every producer publishes (dispatch::publish_routed): the guild here,
// started on demand, when this node owns it; else through the router to the owning node, which
// orders it. Publishes are still one at a time, so the router's per-owner order keeps this
// actor's arrival order.
void ordered_publisher::publish_front(proto::event event) {
  dispatch::publish_routed(
      self_, svc_, std::move(event), svc_->config.request_timeout,
      [this](caf::expected<guild::publish_ack> result) { finish_front(std::move(result)); });
}

void ordered_publisher::finish_front(caf::expected<guild::publish_ack> result) {
  auto done = std::move(queue_.front().done);
  queue_.pop_front();
  publishing_ = false;
  done(std::move(result));
  pump();
}

}  // namespace herald::feature
