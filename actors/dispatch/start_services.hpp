// SPDX-License-Identifier: Apache-2.0
#pragma once
// Starting and stopping the dispatch core of a node: creates the services
// (actors/services) and the guild, relay and session start functions, which
// only this top-level component knows. Blocking; call from a non-actor
// thread (main, a test, a benchmark).

#include <chrono>
#include <memory>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "actors/services/services.hpp"

namespace herald::dispatch {

/// Creates the services and starts the three partition supervisors as roots
/// (blocking up to `timeout`). Stop them with stop_services().
caf::expected<services_ptr> start_services(caf::actor_system& sys, dispatch_config cfg,
                                           std::shared_ptr<store::store> st,
                                           std::chrono::milliseconds timeout = std::chrono::seconds{
                                               5});

/// Stops sessions, then relays, then guilds (each supervisor's children in
/// reverse order), blocking up to `timeout` per supervisor.
void stop_services(const services_ptr& svc,
                   std::chrono::milliseconds timeout = std::chrono::seconds{10});

}  // namespace herald::dispatch
