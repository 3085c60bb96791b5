// SPDX-License-Identifier: Apache-2.0
#include "runtime/supervision/dynamic_supervisor.hpp"

#include <caf/scoped_actor.hpp>

#include "runtime/supervision/detail/dynamic_supervisor_actor.hpp"

namespace herald::supervision {

caf::actor spawn_dynamic_supervisor(caf::actor_system& sys, dynamic_supervisor_spec spec) {
  return sys.spawn<detail::dynamic_supervisor_actor>(std::move(spec));
}

child_spec dynamic_supervisor_child(dynamic_supervisor_spec spec) {
  child_spec child;
  child.id = spec.name;
  child.type = child_type::supervisor;
  child.shutdown = shutdown_policy::infinity();
  child.kind = "supervisor";
  auto shared = std::make_shared<const dynamic_supervisor_spec>(std::move(spec));
  child.start = [shared](const start_context& ctx) -> caf::expected<caf::actor> {
    auto copy = *shared;
    copy.parent = ctx.supervisor_name;
    return spawn_dynamic_supervisor(ctx.system, std::move(copy));
  };
  return child;
}

caf::expected<caf::actor> start_child(caf::actor_system& sys, const caf::actor& sup,
                                      child_spec_ptr spec, child_key key,
                                      std::chrono::milliseconds timeout) {
  caf::scoped_actor self{sys};
  caf::expected<caf::actor> result = caf::error{};
  self->request(sup, timeout, start_child_atom::value, std::move(spec), std::move(key))
      .receive([&](caf::actor& child) { result = std::move(child); },
               [&](caf::error& err) {
                 result = err == caf::sec::request_timeout
                              ? make_error(supervision_errc::timeout, "start_child")
                              : std::move(err);
               });
  return result;
}

caf::error terminate_child(caf::actor_system& sys, const caf::actor& sup, const caf::actor& child,
                           std::chrono::milliseconds timeout) {
  caf::scoped_actor self{sys};
  caf::error result;
  self->request(sup, timeout, terminate_child_atom::value, child)
      .receive([](caf::ok_atom) {},
               [&](caf::error& err) {
                 result = err == caf::sec::request_timeout
                              ? make_error(supervision_errc::timeout, "terminate_child")
                              : std::move(err);
               });
  return result;
}

}  // namespace herald::supervision
