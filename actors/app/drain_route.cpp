// SPDX-License-Identifier: Apache-2.0
#include "actors/app/drain_route.hpp"

#include "runtime/node/request_error.hpp"

namespace herald::app {

namespace {

net::http_response json_answer(const nlohmann::json& body) {
  return net::http_response{
      200, "application/json", body.dump() + "\n", {{"Cache-Control", "no-store"}}};
}

}  // namespace

nlohmann::json drain_status_json(const drain_status& s) {
  return {{"state", s.state},
          {"guilds_owned", s.guilds_owned},
          {"sessions", s.sessions},
          {"sessions_detached", s.sessions_detached},
          {"sessions_migrated", s.sessions_migrated},
          {"window_ms", s.window_ms},
          {"exit", s.exit}};
}

void mount_drain_routes(net::http_server& server, std::shared_ptr<node_drain> drain) {
  server.route("GET", "/v1/drain", [drain](const net::http_request&) {
    return json_answer(drain_status_json(drain->status()));
  });
  server.route("POST", "/v1/drain", [drain](const net::http_request& req) {
    bool exit = false;
    if (!req.body.empty()) {
      auto body = nlohmann::json::parse(req.body, nullptr, false);
      if (!body.is_object() || (body.contains("exit") && !body["exit"].is_boolean())) {
        return node::error_response(
            {400, "bad_request", "the body must be a JSON object with an optional boolean exit"});
      }
      exit = body.value("exit", false);
    }
    if (auto refusal = drain->start(exit)) {
      return node::error_response({409, "cannot_drain", *refusal});
    }
    return json_answer(drain_status_json(drain->status()));
  });
}

}  // namespace herald::app
