// SPDX-License-Identifier: Apache-2.0
#pragma once
// Small helpers shared by herald-bench subcommands: process memory and CPU,
// one clock, percentiles. Pure functions, any thread. Invariant: figures are
// read the same way by every bench so their key=value lines compare.

#include <sys/types.h>

#include <cstdint>
#include <vector>

namespace herald::bench {

/// Resident set size of this process in bytes (/proc/self/statm).
int64_t rss_bytes();
/// Resident set size of process `pid` in bytes (/proc/<pid>/statm); 0 if unreadable.
int64_t rss_bytes_of(pid_t pid);
/// User + system CPU seconds of process `pid` so far (/proc/<pid>/stat).
double cpu_seconds_of(pid_t pid);

/// CLOCK_MONOTONIC in nanoseconds: the same clock in every process, so a bench's client
/// processes and its orchestrator compare timestamps directly.
int64_t monotonic_ns();

/// CPU time (user + system) and minor page faults of this process so far.
struct process_usage {
  double cpu_s = 0;
  int64_t minor_faults = 0;
  int64_t voluntary_switches = 0;
  int64_t involuntary_switches = 0;
};
process_usage usage_now();

/// The p-th percentile (0–100) of `values` by nearest rank; 0 if empty.
/// Sorts `values` in place.
double percentile(std::vector<double>& values, double p);

}  // namespace herald::bench
