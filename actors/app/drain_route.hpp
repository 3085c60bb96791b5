// SPDX-License-Identifier: Apache-2.0
#pragma once
// The drain routes of the admin API (what `heraldctl drain` calls; behind the admin token like
// every /v1 route):
//   POST /v1/drain, body empty or {"exit": bool} → 200 with the status below (the drain began,
//     or was already under way); 409 {"error", "code": "cannot_drain"} when this node cannot
//     drain (not clustered); 400 "bad_request" for a malformed body.
//   GET /v1/drain → 200 {"state":"serving"|"draining"|"drained","guilds_owned":…,"sessions":…,
//     "sessions_migrated":…,"window_ms":…,"exit":bool}.
// Handlers run on the admin API's thread; node_drain does the work.

#include <memory>

#include <nlohmann/json.hpp>

#include "actors/app/node_drain.hpp"
#include "runtime/net/http_server.hpp"

namespace herald::app {

/// The status as the routes answer it.
nlohmann::json drain_status_json(const drain_status& s);

/// Mounts POST and GET /v1/drain on the admin API.
void mount_drain_routes(net::http_server& server, std::shared_ptr<node_drain> drain);

}  // namespace herald::app
