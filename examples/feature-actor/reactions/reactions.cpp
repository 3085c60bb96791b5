// SPDX-License-Identifier: Apache-2.0
#include "examples/feature-actor/reactions/reactions.hpp"

#include <utility>

#include <caf/sec.hpp>

#include "runtime/registry/ensure_started.hpp"
#include "runtime/server/call.hpp"
#include "runtime/supervision/supervisor.hpp"

namespace herald::reactions {

namespace {

supervision::partition_spec counter_partitions() {
  supervision::partition_spec spec;
  spec.name = "reactions";
  // A counter that crashes loses only its channel's counts; allow a burst
  // of such crashes before a partition gives up (default would be 1 in 5 s).
  spec.intensity = supervision::restart_intensity{5, std::chrono::milliseconds{5000}};
  return spec;
}

// call_result → expected: the actor's own error as is, else a CAF error
// that says what happened to the call.
template <class T>
caf::expected<T> to_expected(server::call_result<T> r) {
  if (r) {
    return std::move(r.value());
  }
  if (r.cause()) {
    return r.cause();
  }
  if (r.error() == server::call_error::timeout) {
    return caf::make_error(caf::sec::request_timeout);
  }
  return caf::make_error(caf::sec::request_receiver_down, server::to_string(*r.error()));
}

template <class Atom>
caf::expected<uint64_t> change(const reactions_ptr& rx, Atom atom, uint64_t channel_id,
                               uint64_t message_id, uint64_t user_id, const emoji& e,
                               std::chrono::milliseconds timeout) {
  auto counter = counter_of(rx, channel_id, timeout);
  if (!counter) {
    return counter.error();
  }
  auto& sys = rx->dispatch->system;
  return to_expected(server::call<uint64_t>(sys, *counter, timeout, atom, message_id, user_id, e));
}

}  // namespace

reactions_service::reactions_service(dispatch::services_ptr dispatch_services)
    : dispatch(std::move(dispatch_services)), supervisor(counter_partitions()) {
  auto svc = dispatch;
  auto start = registry::registered_start(
    counters, [svc](caf::actor_system& sys, uint64_t channel_id) {
      return spawn_reaction_counter(sys, svc, channel_id);
    });
  counter_spec = std::make_shared<const supervision::child_spec>(supervision::worker_spec(
    counter_kind, std::move(start), supervision::restart_type::permanent, counter_kind));
}

caf::expected<reactions_ptr> start_reactions(const dispatch::services_ptr& dispatch_services,
                                             std::chrono::milliseconds timeout) {
  if (!dispatch_services) {
    return caf::make_error(caf::sec::invalid_argument, "dispatch services not started");
  }
  auto rx = std::make_shared<reactions_service>(dispatch_services);
  auto owner = rx->supervisor.start(dispatch_services->system, timeout);
  if (!owner) {
    return owner.error();
  }
  return rx;
}

void stop_reactions(const reactions_ptr& rx, std::chrono::milliseconds timeout) {
  if (!rx) {
    return;
  }
  if (auto owner = rx->supervisor.owner()) {
    supervision::stop_supervisor(rx->dispatch->system, owner, timeout);
  }
}

caf::expected<caf::actor> counter_of(const reactions_ptr& rx, uint64_t channel_id,
                                     std::chrono::milliseconds timeout) {
  return registry::ensure_started(rx->dispatch->system, rx->counters, rx->supervisor,
                                  rx->counter_spec, channel_id, timeout);
}

caf::expected<uint64_t> add_reaction(const reactions_ptr& rx, uint64_t channel_id,
                                     uint64_t message_id, uint64_t user_id, const emoji& e,
                                     std::chrono::milliseconds timeout) {
  return change(rx, add_atom::value, channel_id, message_id, user_id, e, timeout);
}

caf::expected<uint64_t> remove_reaction(const reactions_ptr& rx, uint64_t channel_id,
                                        uint64_t message_id, uint64_t user_id, const emoji& e,
                                        std::chrono::milliseconds timeout) {
  return change(rx, remove_atom::value, channel_id, message_id, user_id, e, timeout);
}

caf::expected<reaction_counts> counts(const reactions_ptr& rx, uint64_t channel_id,
                                      uint64_t message_id, std::chrono::milliseconds timeout) {
  // Reading starts nothing: a channel without a counter has no reactions.
  auto counter = rx->counters.lookup(channel_id);
  if (!counter) {
    return reaction_counts{};
  }
  auto& sys = rx->dispatch->system;
  return to_expected(
    server::call<reaction_counts>(sys, counter, timeout, counts_atom::value, message_id));
}

}  // namespace herald::reactions
