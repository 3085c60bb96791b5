// SPDX-License-Identifier: Apache-2.0
#include "runtime/node/admin_api.hpp"

#include "runtime/metrics/metrics.hpp"

namespace herald::node {

namespace {

net::http_response text(unsigned status, std::string body) {
  return {status, "text/plain; charset=utf-8", std::move(body), {{"Cache-Control", "no-store"}}};
}

}  // namespace

void add_admin_routes(net::http_server& server, admin_context& ctx) {
  // Liveness: the process is up and its admin loop answers.
  server.route("GET", "/healthz", [](const net::http_request&) { return text(200, "ok\n"); });
  // Readiness: started, not draining, and able to take clients; load balancers stop routing
  // here on 503. The body says why, e.g. "not ready: gateway at max_connections".
  server.route("GET", "/readyz", [&ctx](const net::http_request&) {
    if (!*ctx.ready) {
      return text(503, "not ready\n");
    }
    if (ctx.not_ready_reason) {
      if (auto why = ctx.not_ready_reason()) {
        return text(503, "not ready: " + *why + "\n");
      }
    }
    return text(200, "ready\n");
  });
  server.route("GET", "/metrics", [](const net::http_request&) {
    return net::http_response{200,
                              "text/plain; version=0.0.4; charset=utf-8",
                              metrics::registry::global().render_prometheus(),
                              {{"Cache-Control", "no-store"}}};
  });
  server.route("GET", "/v1/status", [&ctx](const net::http_request&) {
    return net::http_response{
        200, "application/json", to_json(ctx.status()) + "\n", {{"Cache-Control", "no-store"}}};
  });
}

}  // namespace herald::node
