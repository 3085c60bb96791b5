// SPDX-License-Identifier: Apache-2.0
#pragma once
// Small helpers shared by herald-bench subcommands: process memory and
// percentiles. Pure functions, any thread. Invariant: figures are read the
// same way by every bench so their key=value lines compare.

#include <cstdint>
#include <vector>

namespace herald::bench {

/// Resident set size of this process in bytes (/proc/self/statm).
int64_t rss_bytes();

/// The p-th percentile (0–100) of `values` by nearest rank; 0 if empty.
/// Sorts `values` in place.
double percentile(std::vector<double>& values, double p);

}  // namespace herald::bench
