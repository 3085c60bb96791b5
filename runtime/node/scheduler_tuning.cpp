// SPDX-License-Identifier: Apache-2.0
#include "runtime/node/scheduler_tuning.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include <caf/atom.hpp>
#include <caf/config_value.hpp>
#include <caf/timespan.hpp>

namespace herald::node {

void apply(const scheduler_tuning& tuning, caf::actor_system_config& cfg) {
  auto threads = tuning.threads;
  if (threads == 0) {
    threads = std::max<int64_t>(1, std::thread::hardware_concurrency());
  }
  cfg.set("scheduler.policy", caf::atom("stealing"));
  cfg.set("scheduler.max-threads", static_cast<caf::config_value::integer>(threads));
  // CAF's moderate polling: attempts of 50 us naps.
  cfg.set("work-stealing.moderate-poll-attempts",
          static_cast<caf::config_value::integer>(tuning.idle_poll_us / 50));
  cfg.set("work-stealing.relaxed-sleep-duration",
          caf::timespan{std::chrono::microseconds{tuning.idle_wake_us}});
}

}  // namespace herald::node
