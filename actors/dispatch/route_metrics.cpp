// SPDX-License-Identifier: Apache-2.0
#include "actors/dispatch/route_metrics.hpp"

#include "runtime/metrics/metrics.hpp"

namespace herald::dispatch {

namespace {

struct route_counters {
  metrics::counter& messages;
  metrics::counter& bytes;
};

route_counters& counters(route_direction d) {
  static const char* messages_help =
      "Messages this node's dispatch router sent to (out) or received from (in) other nodes' "
      "routers";
  static const char* bytes_help =
      "Payload bytes of the router messages in herald_cluster_route_messages_total (events, "
      "REST bodies and fixed fields; not BASP framing)";
  auto& reg = metrics::registry::global();
  static route_counters in{
      reg.get_counter("herald_cluster_route_messages_total", messages_help, {{"direction", "in"}}),
      reg.get_counter("herald_cluster_route_bytes_total", bytes_help, {{"direction", "in"}})};
  static route_counters out{
      reg.get_counter("herald_cluster_route_messages_total", messages_help, {{"direction", "out"}}),
      reg.get_counter("herald_cluster_route_bytes_total", bytes_help, {{"direction", "out"}})};
  return d == route_direction::in ? in : out;
}

}  // namespace

metrics::counter& routed_failed_on_down() {
  static auto& c = metrics::registry::global().get_counter(
      "herald_cluster_routed_failed_on_down_total",
      "Routed requests (publishes, guild status) failed at once with the retryable unavailable "
      "error because membership declared the owner they waited on down");
  return c;
}

void register_route_metrics() {
  counters(route_direction::in);
  counters(route_direction::out);
  routed_failed_on_down();
}

void count_route_message(route_direction d, size_t bytes) {
  auto& c = counters(d);
  c.messages.inc();
  c.bytes.inc(bytes);
}

}  // namespace herald::dispatch
