// SPDX-License-Identifier: Apache-2.0
#include "actors/app/where_route.hpp"

#include <charconv>
#include <optional>
#include <string>

#include <caf/event_based_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/dispatch/route_wire.hpp"
#include "actors/dispatch/router.hpp"
#include "actors/services/dispatch_error.hpp"
#include "runtime/node/request_error.hpp"

namespace herald::app {

namespace {

using json = nlohmann::json;

/// A decimal guild id (1..2^64-1), or nullopt.
std::optional<uint64_t> parse_id(const std::string& text) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty() || v == 0) {
    return std::nullopt;
  }
  return v;
}

net::http_response answer(const json& body) {
  return net::http_response{200, "application/json", body.dump(), {{"Cache-Control", "no-store"}}};
}

}  // namespace

void mount_where_route(net::http_server& server, dispatch::services_ptr svc,
                       std::shared_ptr<const cluster::cluster_view> view, bool clustered,
                       std::chrono::milliseconds timeout) {
  server.route_async(
      "GET", "/v1/cluster/guilds/{id}",
      [svc, view, clustered, timeout](const net::http_request& req, net::http_responder respond) {
        auto id = parse_id(req.param("id"));
        if (!id) {
          respond(node::error_response(
              node::request_error{400, "bad_request", "guild id: expected a decimal id"}));
          return;
        }
        // Unclustered: this node (the view's only row) owns every guild.
        std::optional<cluster::node_row> owner;
        if (clustered) {
          owner = view->where(*id);
        } else {
          for (auto& row : view->nodes()) {
            if (row.self) {
              owner = row;
            }
          }
        }
        if (!owner) {
          respond(node::error_response(node::request_error{
              503, "unavailable", "no guild node is up: the owner of the guild is unknown"}));
          return;
        }
        json body{{"guild_id", std::to_string(*id)},
                  {"owner_node", owner->name},
                  {"owner_id", owner->id},
                  {"owner_address", owner->address},
                  {"self", owner->self},
                  {"ring_generation", view->current_ring()->generation()}};
        if (owner->self) {
          body["alive"] = static_cast<bool>(svc->guilds.lookup(*id));
          body["reachable"] = true;
          respond(answer(body));
          return;
        }
        if (!svc->router) {
          // Only an unclustered node has no router, and it owns every guild (handled above).
          body["alive"] = false;
          body["reachable"] = false;
          body["error"] = "no route to other nodes";
          respond(answer(body));
          return;
        }
        svc->system.spawn([svc, owner_id = owner->id, guild_id = *id, timeout, body,
                           respond](caf::event_based_actor* self) mutable {
          self->request(svc->router, timeout, dispatch::route_status_atom::value, owner_id,
                        guild_id)
              .then(
                  [self, body, respond](dispatch::route_wire::guild_status& status) mutable {
                    body["alive"] = status.alive;
                    body["reachable"] = true;
                    respond(answer(body));
                    self->quit();
                  },
                  [self, body, respond](caf::error& err) mutable {
                    body["alive"] = false;
                    body["reachable"] = false;
                    body["error"] = dispatch::describe(err);
                    respond(answer(body));
                    self->quit();
                  });
        });
      });
}

}  // namespace herald::app
