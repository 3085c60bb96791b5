// SPDX-License-Identifier: Apache-2.0
#include "runtime/metrics/actor_metrics.hpp"

namespace herald::metrics {

counter& messages_handled(const std::string& kind) {
  return registry::global().get_counter("herald_messages_handled_total",
                                        "Messages handled by actors, by kind", {{"kind", kind}});
}

}  // namespace herald::metrics
