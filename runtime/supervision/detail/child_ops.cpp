// SPDX-License-Identifier: Apache-2.0
#include "runtime/supervision/detail/child_ops.hpp"

#include <spdlog/spdlog.h>

#include <type_traits>

#include <caf/actor_clock.hpp>
#include <caf/exit_reason.hpp>

#include "runtime/supervision/errors.hpp"
#include "runtime/supervision/restart_window.hpp"
#include "runtime/supervision/worker.hpp"

namespace herald::supervision::detail {

// Supervisors feed their restart window with self->clock().now().
static_assert(std::is_same<caf::actor_clock::time_point, restart_window::clock::time_point>::value,
              "restart_window must read the actor system's clock");

caf::expected<caf::actor> start_one(caf::event_based_actor* self, const child_spec& spec,
                                    const child_key& key, const std::string& supervisor_name) {
  if (!spec.start) {
    return make_error(supervision_errc::invalid_start,
                      "child '" + spec.id + "' has no start function");
  }
  caf::expected<caf::actor> res = caf::actor{};
  try {
    res = spec.start(start_context{self->system(), key, supervisor_name});
  } catch (...) {
    // A throwing start function is a failed start, not a supervisor crash.
    return crash_reason(std::current_exception());
  }
  if (!res) {
    return res;
  }
  if (!*res) {
    return make_error(supervision_errc::invalid_start,
                      "child '" + spec.id + "' start returned an invalid handle");
  }
  self->monitor(*res);
  track_actor(*res, spec.kind);
  return res;
}

bool should_restart(restart_type restart, const caf::error& reason) noexcept {
  switch (restart) {
    case restart_type::permanent:
      return true;
    case restart_type::transient:
      return !is_normal_exit(reason);
    case restart_type::temporary:
      return false;
  }
  return false;
}

bool send_stop(caf::event_based_actor* self, const caf::actor& child, const shutdown_policy& p) {
  if (p.brutal) {
    self->send_exit(child, caf::exit_reason::kill);
    return false;
  }
  self->send_exit(child, caf::exit_reason::user_shutdown);
  return !p.unbounded;
}

void log_child_exit(const std::string& supervisor_name, const child_spec& spec,
                    const child_key& key, const caf::error& reason) {
  if (is_normal_exit(reason)) {
    spdlog::debug("supervisor '{}': child '{}' key={} exited: {}", supervisor_name, spec.id,
                  key.to_string(), describe(reason));
    return;
  }
  spdlog::error("supervisor '{}': child '{}' key={} kind={} crashed: {}", supervisor_name, spec.id,
                key.to_string(), spec.kind, describe(reason));
}

supervisor_metrics::supervisor_metrics(const std::string& name, const std::string& parent,
                                       const std::string& strategy)
    : restarts_(metrics::registry::global().get_counter("herald_supervisor_restarts_total",
                                                        "Child restarts performed by a supervisor.",
                                                        {{"supervisor", name}})),
      mailbox_depth_(metrics::registry::global().get_gauge(
          "herald_mailbox_depth", "Messages waiting in an actor's mailbox (sampled by the actor).",
          {{"actor", name}})),
      entry_(register_supervisor(name, parent, strategy)) {}

supervisor_metrics::~supervisor_metrics() {
  close();
}

void supervisor_metrics::restarted() {
  restarts_.inc();
  if (entry_ != nullptr) {
    entry_->restarts.fetch_add(1, std::memory_order_relaxed);
  }
}

void supervisor_metrics::set_children(uint64_t n) noexcept {
  if (entry_ != nullptr) {
    entry_->children.store(n, std::memory_order_relaxed);
  }
}

void supervisor_metrics::sample_mailbox(caf::event_based_actor* self) {
  mailbox_depth_.set(static_cast<int64_t>(self->mailbox().size()));
}

void supervisor_metrics::close() {
  if (entry_ != nullptr) {
    unregister_supervisor(entry_);
    entry_ = nullptr;
    mailbox_depth_.set(0);
  }
}

}  // namespace herald::supervision::detail
