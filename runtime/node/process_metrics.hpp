// SPDX-License-Identifier: Apache-2.0
#pragma once
// Process-level metrics read from /proc at scrape time: memory, CPU, open fds,
// start time, uptime and build info. Registered once by the node; the
// collectors run on the scraping (admin HTTP) thread.
// Invariant: values are sampled per scrape, never cached; nothing here blocks on actors.

#include <chrono>
#include <cstddef>
#include <vector>

#include "runtime/metrics/metrics.hpp"

namespace herald::node {

/// Point-in-time process figures (Linux /proc); fields are 0 where unavailable.
struct process_stats {
  double resident_memory_bytes = 0;
  double cpu_seconds = 0;
  double open_fds = 0;
};

process_stats read_process_stats();

/// Adds collectors for process_resident_memory_bytes, process_cpu_seconds_total,
/// process_open_fds, process_start_time_seconds, herald_uptime_seconds and
/// herald_build_info{version}. Returns the collector ids for remove_collector.
std::vector<size_t> register_process_metrics(metrics::registry& r,
                                             std::chrono::system_clock::time_point started);

}  // namespace herald::node
