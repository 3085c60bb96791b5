// SPDX-License-Identifier: Apache-2.0
#pragma once
// Per-kind actor metrics every herald actor reports: messages handled.
// Counters live in the global registry; any thread may bump them.
// Invariant: one series per actor kind, so cardinality stays bounded.

#include <string>

#include "runtime/metrics/metrics.hpp"

namespace herald::metrics {

/// herald_messages_handled_total{kind=<kind>}: bump once per message an actor
/// of that kind handles. Look it up once (at spawn) and keep the reference.
counter& messages_handled(const std::string& kind);

}  // namespace herald::metrics
