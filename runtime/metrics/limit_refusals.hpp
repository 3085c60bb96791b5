// SPDX-License-Identifier: Apache-2.0
#pragma once
// Refusals by the node's abuse limits (REST global rate limit, Identify rate, …): one counter
// family `herald_limit_refusals_total{limit}` in the global registry, and the per-limit totals
// that the node status (GET /v1/status, `heraldctl status`) shows. Any thread.
// Invariant: every limit that ever refused is listed by limit_refusals() with its count; a
// limit registered with declare_limit() is listed (with 0) before its first refusal.

#include <cstdint>
#include <map>
#include <string>

#include "runtime/metrics/metrics.hpp"

namespace herald::metrics {

/// The counter of `limit` (a stable snake_case name, the metric label). Keep the reference:
/// the lookup takes the registry's lock, the increment does not.
counter& limit_refusal_counter(const std::string& limit);

/// Makes `limit` appear in limit_refusals() with 0 before its first refusal.
inline void declare_limit(const std::string& limit) {
  limit_refusal_counter(limit);
}

/// Refusals so far by limit name.
std::map<std::string, uint64_t> limit_refusals();

}  // namespace herald::metrics
