// SPDX-License-Identifier: Apache-2.0
#include "actors/dispatch/start_services.hpp"

#include <caf/actor_registry.hpp>
#include <caf/send.hpp>

#include "actors/dispatch/router.hpp"
#include "actors/dispatch/staged_session.hpp"
#include "actors/guild/guild_actor.hpp"
#include "actors/relay/downlink.hpp"
#include "actors/relay/relay_actor.hpp"
#include "actors/services/dispatch_error.hpp"
#include "actors/session/session_actor.hpp"
#include "runtime/registry/ensure_started.hpp"
#include "runtime/supervision/supervisor.hpp"

namespace herald::dispatch {

namespace {

// The supervisor kills children that do not stop within this on shutdown.
constexpr std::chrono::milliseconds child_shutdown{2000};

supervision::child_spec_ptr make_spec(const char* id, supervision::start_fn start,
                                      supervision::restart_type restart) {
  auto spec = supervision::worker_spec(id, std::move(start), restart, id);
  spec.shutdown = supervision::shutdown_policy::timeout(child_shutdown);
  return std::make_shared<const supervision::child_spec>(std::move(spec));
}

}  // namespace

caf::expected<services_ptr> start_services(caf::actor_system& sys, dispatch_config cfg,
                                           std::shared_ptr<store::store> st,
                                           std::chrono::milliseconds timeout) {
  auto svc = std::make_shared<services>(sys, std::move(cfg), std::move(st));
  // Specs capture a weak pointer: services own the specs (no cycle), and a
  // start after services are gone fails cleanly.
  std::weak_ptr<services> weak = svc;
  using supervision::restart_type;
  // Guilds are temporary: a crashed guild is started again on demand (by the
  // next publish or subscribe), reloading its state and re-binding relays. A
  // transient spec raced those on-demand starts: the supervisor's restart
  // then failed with already_started, which counts as a failed restart and
  // escalated to the partition, killing every other guild in it.
  svc->guild_spec =
      make_spec("guild",
                registry::registered_start(
                    svc->guilds,
                    [weak](caf::actor_system&, uint64_t id) -> caf::expected<caf::actor> {
                      if (auto s = weak.lock()) {
                        return guild::spawn_guild(s, id);
                      }
                      return make_error(dispatch_errc::unavailable, "node stopping");
                    }),
                restart_type::temporary);
  svc->relay_spec =
      make_spec("relay",
                registry::registered_start(
                    svc->relays,
                    [weak](caf::actor_system&, uint64_t id) -> caf::expected<caf::actor> {
                      if (auto s = weak.lock()) {
                        return relay::spawn_relay(s, id);
                      }
                      return make_error(dispatch_errc::unavailable, "node stopping");
                    }),
                restart_type::temporary);
  svc->session_spec =
      make_spec("session",
                registry::registered_start(
                    svc->sessions,
                    [weak](caf::actor_system&, uint64_t id) -> caf::expected<caf::actor> {
                      auto s = weak.lock();
                      auto staged = s ? s->staged.take(id) : nullptr;
                      if (!staged) {
                        return make_error(dispatch_errc::unavailable, "session not staged");
                      }
                      auto output = staged->output;
                      auto started = session::spawn_session(s, std::move(staged->params),
                                                            std::move(staged->output));
                      if (started) {
                        // Once the session has ended, relays write nothing
                        // more to it, not even events already in flight.
                        caf::actor_cast<caf::abstract_actor*>(*started)->attach_functor(
                            [output] { output->close(); });
                      }
                      return started;
                    }),
                restart_type::temporary);
  for (auto* sup : {&svc->guild_supervisor, &svc->relay_supervisor, &svc->session_supervisor}) {
    if (auto started = sup->start(sys, timeout); !started) {
      stop_services(svc, timeout);
      return started.error();
    }
  }
  if (svc->config.cluster) {
    svc->router = spawn_router(svc);
    svc->relay_downlink = relay::spawn_downlink(svc);
  }
  return svc;
}

void stop_services(const services_ptr& svc, std::chrono::milliseconds timeout) {
  // No more routed publishes in or out (the router's state holds the services: this ends that).
  if (svc->router) {
    svc->system.registry().erase(router_name);
    caf::anon_send_exit(svc->router, caf::exit_reason::user_shutdown);
  }
  // Sessions first (they unsubscribe from relays), then relays, then guilds.
  for (auto* sup : {&svc->session_supervisor, &svc->relay_supervisor, &svc->guild_supervisor}) {
    if (auto owner = sup->owner()) {
      supervision::stop_supervisor(svc->system, owner, timeout);
    }
  }
  // No guild delivers core events any more: drop the observers, which hold the services (a
  // shared_ptr cycle through core_observers otherwise).
  svc->observers.clear();
  // Guilds are gone: commit what they handed to the writer (their producers' answers go to
  // actors that no longer run, which is what a stop means), then refuse further writes.
  svc->writer->stop();
}

}  // namespace herald::dispatch
