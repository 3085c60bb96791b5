// SPDX-License-Identifier: Apache-2.0
#include "runtime/supervision/supervisor.hpp"

#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>

#include "runtime/supervision/detail/static_supervisor.hpp"

namespace herald::supervision {

namespace {

caf::error timeout_error(const char* what) {
  return make_error(supervision_errc::timeout, what);
}

// Request errors become supervisor::timeout when CAF gave up waiting, so
// callers see one error for "no answer in time".
caf::error normalize(caf::error err, const char* what) {
  if (err == caf::sec::request_timeout) {
    return timeout_error(what);
  }
  return err;
}

}  // namespace

std::string to_string(strategy x) {
  switch (x) {
    case strategy::one_for_one:
      return "one_for_one";
    case strategy::one_for_all:
      return "one_for_all";
    case strategy::rest_for_one:
      return "rest_for_one";
  }
  return "?";
}

caf::actor spawn_supervisor(caf::actor_system& sys, supervisor_spec spec) {
  return sys.spawn<detail::static_supervisor>(std::move(spec));
}

caf::expected<caf::actor> start_supervisor(caf::actor_system& sys, supervisor_spec spec,
                                           std::chrono::milliseconds timeout) {
  auto sup = spawn_supervisor(sys, std::move(spec));
  caf::scoped_actor self{sys};
  // Monitored first: a supervisor whose start fails fast can stop before the ready request
  // reaches it (request_receiver_down); its exit reason is then the start error.
  self->monitor(sup);
  caf::error failure;
  self->request(sup, timeout, ready_atom::value)
      .receive([](caf::ok_atom) {}, [&](caf::error& err) { failure = std::move(err); });
  if (failure == caf::sec::request_receiver_down) {
    bool down = false;
    self->receive_while([&] { return !down; })(
        [&](caf::down_msg& dm) {
          if (dm.source == sup.address()) {
            down = true;
            if (dm.reason) {
              failure = std::move(dm.reason);
            }
          }
        },
        caf::after(timeout) >> [&] { down = true; });
  }
  if (!failure) {
    return sup;
  }
  if (failure == caf::sec::request_timeout) {
    // Don't leave a half-started tree behind.
    self->send_exit(sup, caf::exit_reason::kill);
    return timeout_error("start_supervisor: no ready reply in time");
  }
  return failure;
}

child_spec supervisor_child(supervisor_spec spec) {
  child_spec child;
  child.id = spec.name;
  child.type = child_type::supervisor;
  child.shutdown = shutdown_policy::infinity();
  child.kind = "supervisor";
  auto shared = std::make_shared<const supervisor_spec>(std::move(spec));
  child.start = [shared](const start_context& ctx) -> caf::expected<caf::actor> {
    auto copy = *shared;
    copy.parent = ctx.supervisor_name;
    return spawn_supervisor(ctx.system, std::move(copy));
  };
  return child;
}

caf::error stop_supervisor(caf::actor_system& sys, const caf::actor& sup,
                           std::chrono::milliseconds timeout) {
  if (!sup) {
    return caf::error{};
  }
  caf::scoped_actor self{sys};
  self->monitor(sup);
  self->send_exit(sup, caf::exit_reason::user_shutdown);
  caf::error result;
  bool down = false;
  self->receive_while([&] { return !down; })(
      [&](caf::down_msg& dm) {
        if (dm.source == sup.address()) {
          down = true;
          if (!is_normal_exit(dm.reason)) {
            result = std::move(dm.reason);
          }
        }
      },
      caf::after(timeout) >>
          [&] {
            down = true;
            self->send_exit(sup, caf::exit_reason::kill);
            result = timeout_error("stop_supervisor: supervisor did not stop in time; killed");
          });
  return result;
}

caf::expected<std::vector<child_info>> which_children(caf::actor_system& sys, const caf::actor& sup,
                                                      std::chrono::milliseconds timeout) {
  caf::scoped_actor self{sys};
  caf::expected<std::vector<child_info>> result = caf::error{};
  self->request(sup, timeout, which_children_atom::value)
      .receive([&](std::vector<child_info>& xs) { result = std::move(xs); },
               [&](caf::error& err) { result = normalize(std::move(err), "which_children"); });
  return result;
}

caf::expected<child_counts> count_children(caf::actor_system& sys, const caf::actor& sup,
                                           std::chrono::milliseconds timeout) {
  caf::scoped_actor self{sys};
  caf::expected<child_counts> result = caf::error{};
  self->request(sup, timeout, count_children_atom::value)
      .receive([&](child_counts& c) { result = c; },
               [&](caf::error& err) { result = normalize(std::move(err), "count_children"); });
  return result;
}

}  // namespace herald::supervision
