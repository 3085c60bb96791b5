// SPDX-License-Identifier: Apache-2.0
#include "actors/dispatch/api.hpp"

#include <atomic>

#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/dispatch/router.hpp"
#include "actors/dispatch/staged_session.hpp"
#include "actors/domain/snowflake.hpp"
#include "actors/relay/relay_messages.hpp"
#include "actors/services/dispatch_error.hpp"
#include "runtime/registry/ensure_started.hpp"
#include "runtime/supervision/dynamic_supervisor.hpp"

namespace herald::dispatch {

caf::expected<caf::actor> guild_actor_of(const services_ptr& svc, uint64_t guild_id,
                                         std::chrono::milliseconds timeout) {
  auto guild = registry::ensure_started(svc->system, svc->guilds, svc->guild_supervisor,
                                        svc->guild_spec, guild_id, timeout);
  if (!guild) {
    return from_start_error(std::move(guild.error()));
  }
  return guild;
}

caf::expected<guild::publish_ack> publish(const services_ptr& svc, const proto::event& event,
                                          std::chrono::milliseconds timeout) {
  auto p = place(*svc, event.guild_id());
  if (p.where == placement::kind::unknown) {
    return make_error(dispatch_errc::unavailable, "no guild node is up: the owner is unknown");
  }
  routed_publishes(p.where == placement::kind::remote).inc();
  caf::actor target = svc->router;
  if (p.where == placement::kind::local) {
    auto guild = guild_actor_of(svc, event.guild_id(), timeout);
    if (!guild) {
      return guild.error();
    }
    target = std::move(*guild);
  }
  caf::scoped_actor self{svc->system};
  caf::expected<guild::publish_ack> out{make_error(dispatch_errc::unavailable)};
  auto on_ack = [&](guild::publish_ack& ack) { out = std::move(ack); };
  auto on_error = [&](caf::error& err) { out = std::move(err); };
  if (p.where == placement::kind::local) {
    self->request(target, timeout, guild::publish_atom::value, event).receive(on_ack, on_error);
  } else {
    self->request(target, timeout, route_publish_atom::value, p.owner, event)
        .receive(on_ack, on_error);
  }
  return out;
}

namespace {

void stage_with(const services_ptr& svc, session::session_params& params,
                const session::session_output_ptr& output) {
  auto staged = std::make_shared<staged_sessions::entry>();
  staged->output = output;
  staged->params = std::move(params);
  svc->staged.put(output->session_id(), std::move(staged));
}

session::session_output_ptr stage(const services_ptr& svc, session::session_params& params) {
  if (params.session_id == 0) {
    params.session_id = next_session_id(svc->config.node_id);
  }
  auto output = caf::make_counted<session::session_output>(
      params.session_id, params.user.id_, params.granted, &svc->config.session_limits);
  stage_with(svc, params, output);
  return output;
}

void start_staged(const services_ptr& svc, const session::session_output_ptr& output,
                  std::chrono::milliseconds timeout, bool migrated, session_callback done) {
  auto id = output->session_id();
  auto target = svc->session_supervisor.partition_for(supervision::child_key{id});
  if (!target) {
    svc->staged.take(id);
    done(make_error(dispatch_errc::unavailable, "session supervisor not running"));
    return;
  }
  // A one-shot helper actor turns the supervisor's reply into the callback.
  svc->system.spawn([svc, target, id, output, timeout, migrated,
                     done = std::move(done)](caf::event_based_actor* self) mutable {
    supervision::request_start_child(self, target, svc->session_spec, supervision::child_key{id},
                                     timeout)
        .then(
            [self, output, migrated, done](caf::actor& actor) {
              done(opened_session{std::move(actor), output, migrated});
              self->quit();
            },
            [self, svc, id, done](caf::error& err) {
              svc->staged.take(id);  // the start never ran, or failed
              done(std::move(err));
              self->quit();
            });
  });
}

}  // namespace

caf::expected<opened_session> open_session(const services_ptr& svc, session::session_params params,
                                           std::chrono::milliseconds timeout) {
  auto output = stage(svc, params);
  auto id = output->session_id();
  auto actor = svc->session_supervisor.start_child(svc->system, svc->session_spec,
                                                   supervision::child_key{id}, timeout);
  if (!actor) {
    svc->staged.take(id);  // drop the staged entry if the start never ran
    return actor.error();
  }
  return opened_session{std::move(*actor), std::move(output)};
}

session::session_output_ptr open_session_async(const services_ptr& svc,
                                               session::session_params params) {
  auto output = stage(svc, params);
  svc->session_supervisor.cast_start_child(svc->session_spec,
                                           supervision::child_key{output->session_id()});
  return output;
}

void open_session_async(const services_ptr& svc, session::session_params params,
                        std::chrono::milliseconds timeout, session_callback done) {
  auto output = stage(svc, params);
  start_staged(svc, output, timeout, false, std::move(done));
}

void start_session_async(const services_ptr& svc, session::session_params params,
                         session::session_output_ptr output, std::chrono::milliseconds timeout,
                         session_callback done) {
  bool migrated = params.migrated;
  stage_with(svc, params, output);
  start_staged(svc, output, timeout, migrated, std::move(done));
}

void resume_session_async(const services_ptr& svc, uint64_t session_id,
                          std::chrono::milliseconds timeout, session_callback done) {
  // A session id names the node that minted it: a session of another node's bits is found here
  // only if it was taken over (session_migration.hpp); otherwise it is refused, never looked for.
  auto actor = svc->sessions.lookup(session_id);
  if (!actor) {
    bool foreign = node_id_of_session(session_id) != (svc->config.node_id & domain::max_node_id);
    done(make_error(dispatch_errc::unavailable,
                    foreign ? "session held by another node" : "unknown session"));
    return;
  }
  svc->system.spawn([actor, timeout, done = std::move(done)](caf::event_based_actor* self) {
    self->request(actor, timeout, session::resume_atom::value)
        .then(
            [self, actor, done](session::session_output_ptr& output) {
              done(opened_session{actor, std::move(output)});
              self->quit();
            },
            [self, done](caf::error& err) {
              done(std::move(err));
              self->quit();
            });
  });
}

uint64_t next_session_id(unsigned node_id) {
  constexpr uint64_t low_mask = (uint64_t{1} << 54) - 1;
  static std::atomic<uint64_t> counter{0};
  // The start time keeps ids distinct across restarts of a node; the node bits across nodes.
  static const uint64_t base =
      static_cast<uint64_t>(domain::system_clock_ms() - domain::discord_epoch_ms) << 14;
  uint64_t low = (base + counter.fetch_add(1, std::memory_order_relaxed) + 1) & low_mask;
  return (uint64_t{node_id & domain::max_node_id} << 54) | low;
}

void notify_member_joined(const services_ptr& svc, uint64_t user_id, uint64_t guild_id) {
  svc->user_sessions.dispatch(user_id, session::join_guild_atom::value, guild_id);
}

}  // namespace herald::dispatch
