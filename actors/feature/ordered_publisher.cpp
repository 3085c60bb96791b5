// SPDX-License-Identifier: Apache-2.0
#include "actors/feature/ordered_publisher.hpp"

#include <utility>

#include "actors/services/dispatch_error.hpp"
#include "runtime/registry/ensure_started.hpp"

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

// Through the event's guild, started on demand as any producer would.
void ordered_publisher::publish_front(proto::event event) {
  auto timeout = svc_->config.request_timeout;
  auto& svc = *svc_;
  uint64_t guild_id = event.guild_id();
  registry::ensure_started(
      self_, svc.guilds, svc.guild_supervisor, svc.guild_spec, guild_id, timeout,
      [this, event = std::move(event), timeout](caf::expected<caf::actor> guild_actor) {
        if (!guild_actor) {
          finish_front(dispatch::from_start_error(std::move(guild_actor.error())));
          return;
        }
        self_->request(*guild_actor, timeout, guild::publish_atom::value, event)
            .then([this](guild::publish_ack& ack) { finish_front(std::move(ack)); },
                  [this](caf::error& err) { finish_front(std::move(err)); });
      });
}

void ordered_publisher::finish_front(caf::expected<guild::publish_ack> result) {
  auto done = std::move(queue_.front().done);
  queue_.pop_front();
  publishing_ = false;
  done(std::move(result));
  pump();
}

}  // namespace herald::feature
