// SPDX-License-Identifier: Apache-2.0
#include "runtime/cluster/peer_dial.hpp"

#include <set>

#include <caf/actor_cast.hpp>
#include <caf/actor_registry.hpp>

#include "runtime/config/validators.hpp"

namespace herald::cluster {

bool dial_peer(caf::event_based_actor* self, const caf::io::middleman_actor& middleman,
               const std::string& address, std::chrono::milliseconds timeout,
               std::function<void(caf::actor)> reached, std::function<void(std::string)> failed) {
  auto ep = config::parse_endpoint(address);
  if (!ep || ep->port == 0) {
    return false;
  }
  self->request(middleman, timeout, caf::connect_atom::value, ep->host, ep->port)
      .then([reached](const caf::node_id&, caf::strong_actor_ptr& ptr,
                      const std::set<std::string>&) { reached(caf::actor_cast<caf::actor>(ptr)); },
            [self, failed](caf::error& err) { failed(self->system().render(err)); });
  return true;
}

caf::strong_actor_ptr lookup_service(caf::actor_system& sys, caf::atom_value name) {
  return sys.registry().get(name);
}

}  // namespace herald::cluster
