// SPDX-License-Identifier: Apache-2.0
#pragma once
// A process-wide hook told when a relay partition has finished delivering
// one event: for benchmarks and tests that time fan-out completion. Called
// on the partition's thread, once per event per partition (never per
// recipient); must be thread-safe and fast. Invariant: with no observer set
// the hot path pays one relaxed atomic load per event.

#include <cstddef>
#include <cstdint>

namespace herald::relay {

using delivery_observer_fn = void (*)(uint64_t guild_id, uint64_t guild_order, size_t delivered);

/// Installs `fn` (nullptr removes it).
void set_delivery_observer(delivery_observer_fn fn) noexcept;

/// The installed observer, or nullptr.
delivery_observer_fn delivery_observer() noexcept;

}  // namespace herald::relay
