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
#include "actors/store/store.hpp"
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

// The store's word on who does own the guild (docs/cluster.md, "Guild ownership: epochs and
// fencing"): `epoch`, `order` (last committed guild order) and `epoch_node_id` (the node whose
// claim set the epoch; null when the guild was never claimed: epoch and order 0). A failed read
// leaves them out and says why in `store_error`. Blocking: called from an actor.
void add_store_owner(store::store& st, uint64_t guild_id, json& body) {
  auto owner = st.guild_owner_of(guild_id);
  if (owner) {
    body["epoch"] = owner.value().epoch_;
    body["order"] = owner.value().last_order_;
    body["epoch_node_id"] = owner.value().node_id_;
  } else if (owner.error().code_ == store::store_errc::not_found) {
    body["epoch"] = 0;
    body["order"] = 0;
    body["epoch_node_id"] = nullptr;
  } else {
    body["store_error"] =
        std::string{store::to_string(owner.error().code_)} + ": " + owner.error().message_;
  }
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
        // A short-lived actor: the store read (owner epoch and order) and the owner's answer
        // never block the admin io thread.
        svc->system.spawn([svc, owner = *owner, guild_id = *id, timeout, body,
                           respond](caf::event_based_actor* self) mutable {
          add_store_owner(*svc->store, guild_id, body);
          if (owner.self) {
            body["alive"] = static_cast<bool>(svc->guilds.lookup(guild_id));
            body["reachable"] = true;
            respond(answer(body));
            self->quit();
            return;
          }
          if (!svc->router) {
            // Only an unclustered node has no router, and it owns every guild (handled above).
            body["alive"] = false;
            body["reachable"] = false;
            body["error"] = "no route to other nodes";
            respond(answer(body));
            self->quit();
            return;
          }
          self->request(svc->router, timeout, dispatch::route_status_atom::value, owner.id,
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
