// SPDX-License-Identifier: Apache-2.0
#include "features/reactions/reactions.hpp"

#include <utility>

#include <caf/sec.hpp>

#include "runtime/server/call.hpp"

namespace herald::reactions {

namespace {

feature::keyed_service_spec counter_service(const dispatch::services_ptr& svc) {
  feature::keyed_service_spec spec;
  spec.name = "reactions";
  spec.kind = counter_kind;
  spec.spawn = [svc](caf::actor_system& sys, uint64_t channel_id) {
    return spawn_reaction_counter(sys, svc, channel_id);
  };
  // A counter that crashes loses only its channel's counts: the default burst
  // of 5 crashes in 5 s per partition before it gives up.
  return spec;
}

}  // namespace

reactions_service::reactions_service(dispatch::services_ptr dispatch_services)
    : dispatch(std::move(dispatch_services)),
      counters(std::make_shared<feature::keyed_service>(counter_service(dispatch))) {}

std::vector<dispatch::core_event_kind> observed_kinds() {
  return {dispatch::core_event_kind::message_delete, dispatch::core_event_kind::channel_delete};
}

dispatch::core_observer observer_of(const reactions_ptr& rx) {
  return feature::observe_by_key(rx->counters,
                                 [](const dispatch::core_event& ev) { return ev.channel_id; });
}

caf::expected<reactions_ptr> start_reactions(const dispatch::services_ptr& dispatch_services,
                                             std::chrono::milliseconds timeout) {
  if (!dispatch_services) {
    return caf::make_error(caf::sec::invalid_argument, "dispatch services not started");
  }
  auto rx = std::make_shared<reactions_service>(dispatch_services);
  if (auto err = rx->counters->start(dispatch_services->system, timeout)) {
    return err;
  }
  dispatch::core_event_mask kinds = 0;
  for (auto k : observed_kinds()) {
    kinds |= dispatch::mask_of(k);
  }
  dispatch_services->observers.add(feature_name, kinds, observer_of(rx));
  return rx;
}

void stop_reactions(const reactions_ptr& rx, std::chrono::milliseconds timeout) {
  if (rx) {
    rx->counters->stop(timeout);
  }
}

caf::expected<caf::actor> counter_of(const reactions_ptr& rx, uint64_t channel_id,
                                     std::chrono::milliseconds timeout) {
  return rx->counters->ensure_started(channel_id, timeout);
}

caf::expected<uint64_t> add_reaction(const reactions_ptr& rx, uint64_t channel_id,
                                     uint64_t message_id, uint64_t user_id, const emoji& e,
                                     std::chrono::milliseconds timeout,
                                     feature::permission_check check) {
  return feature::call<uint64_t>(rx->dispatch->system, *rx->counters, channel_id, timeout,
                                 add_atom::value, message_id, user_id, e, check);
}

caf::expected<uint64_t> remove_reaction(const reactions_ptr& rx, uint64_t channel_id,
                                        uint64_t message_id, uint64_t user_id, const emoji& e,
                                        std::chrono::milliseconds timeout,
                                        feature::permission_check check) {
  return feature::call<uint64_t>(rx->dispatch->system, *rx->counters, channel_id, timeout,
                                 remove_atom::value, message_id, user_id, e, check);
}

caf::expected<reaction_counts> counts(const reactions_ptr& rx, uint64_t channel_id,
                                      uint64_t message_id, std::chrono::milliseconds timeout) {
  // The counter holds the channel's stored reactions once started.
  return feature::call<reaction_counts>(rx->dispatch->system, *rx->counters, channel_id, timeout,
                                        counts_atom::value, message_id);
}

}  // namespace herald::reactions
