// SPDX-License-Identifier: Apache-2.0
#include "actors/relay/delivery_observer.hpp"

#include <atomic>

namespace herald::relay {

namespace {
std::atomic<delivery_observer_fn> observer{nullptr};
}  // namespace

void set_delivery_observer(delivery_observer_fn fn) noexcept {
  observer.store(fn, std::memory_order_release);
}

delivery_observer_fn delivery_observer() noexcept {
  return observer.load(std::memory_order_acquire);
}

}  // namespace herald::relay
