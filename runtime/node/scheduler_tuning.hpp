// SPDX-License-Identifier: Apache-2.0
#pragma once
// How a herald node configures CAF 0.17's work-stealing scheduler, in one place so that the
// daemon and herald-bench (which runs the dispatch actors in its own actor system) run the
// same scheduler. Called before the caf::actor_system is built; any thread.
// Invariant: the defaults are the `runtime.scheduler_*` config keys' defaults.

#include <cstdint>

#include <caf/actor_system_config.hpp>

namespace herald::node {

struct scheduler_tuning {
  /// Worker threads; 0 = one per hardware thread.
  int64_t threads = 0;
  /// runtime.scheduler_idle_poll_us: how long an idle worker nap-polls (50 µs naps) before
  /// it sleeps. CAF's default is 25,000; 0 keeps idle workers from taking CPU away from the
  /// gateway's io thread on a small machine (docs/benchmarks.md, "Gateway (issue #4)").
  int64_t idle_poll_us = 0;
  /// runtime.scheduler_idle_wake_us: how often a sleeping worker wakes to steal work.
  int64_t idle_wake_us = 1000;
};

/// Sets the work-stealing policy, its thread count and its idle behaviour on `cfg`.
void apply(const scheduler_tuning& tuning, caf::actor_system_config& cfg);

}  // namespace herald::node
