// SPDX-License-Identifier: Apache-2.0
#include "actors/dispatch/session_migration.hpp"

#include <caf/event_based_actor.hpp>

#include "actors/dispatch/router.hpp"
#include "actors/domain/snowflake.hpp"
#include "actors/services/dispatch_error.hpp"

namespace herald::dispatch {

session::session_params migrated_params(const session::migrate_wire::migrate_reply& reply) {
  session::session_params params;
  params.session_id = reply.session_id;
  params.user.id_ = reply.user_id;  // READY is not written again: the id is all it needs
  params.granted = reply.granted;
  if (reply.sharded) {
    params.shard = std::array<uint32_t, 2>{reply.shard_id, reply.shard_count};
  }
  params.guild_ids = reply.guild_ids;
  params.migrated = true;
  for (size_t i = 0; i < reply.cursor_guilds.size(); ++i) {
    params.cursors.emplace_back(reply.cursor_guilds[i], reply.cursor_orders[i]);
  }
  return params;
}

session::session_output_ptr migrated_output(const services_ptr& svc,
                                            const session::migrate_wire::migrate_reply& reply) {
  auto output = caf::make_counted<session::session_output>(
      reply.session_id, reply.user_id, reply.granted, &svc->config.session_limits);
  output->buffer().start_at(reply.next_seq - reply.frames.size());
  for (const auto& frame : reply.frames) {
    output->buffer().append_shared(frame.tail);  // the tail read from the wire, not copied
  }
  return output;
}

namespace {

void take_over(const services_ptr& svc, const session::migrate_wire::migrate_request& req,
               std::chrono::milliseconds timeout, session_callback done) {
  auto holder = static_cast<uint16_t>(node_id_of_session(req.session_id));
  svc->system.spawn(
      [svc, req, holder, timeout, done = std::move(done)](caf::event_based_actor* self) mutable {
        self->request(svc->router, timeout, route_migrate_atom::value, holder, req)
            .then(
                [self, svc, req, timeout, done](session::migrate_wire::migrate_reply& reply) {
                  if (!session::migrate_wire::valid_reply(req, reply)) {
                    done(make_error(dispatch_errc::unavailable, "malformed migrate reply"));
                  } else {
                    auto output = migrated_output(svc, reply);
                    start_session_async(svc, migrated_params(reply), output, timeout,
                                        [done](caf::expected<opened_session> opened) {
                                          if (opened) {
                                            static auto& in = session::sessions_migrated("in");
                                            in.inc();
                                          }
                                          done(std::move(opened));
                                        });
                  }
                  self->quit();
                },
                [self, done](caf::error& err) {
                  done(std::move(err));
                  self->quit();
                });
      });
}

}  // namespace

void resume_anywhere_async(const services_ptr& svc, uint64_t session_id, uint64_t user_id,
                           uint64_t seq, std::chrono::milliseconds timeout, session_callback done) {
  // A session taken over earlier lives here under its old node's bits: look it up first.
  bool foreign = node_id_of_session(session_id) != (svc->config.node_id & domain::max_node_id);
  if (!foreign || !svc->config.cluster || svc->sessions.lookup(session_id)) {
    resume_session_async(svc, session_id, timeout, std::move(done));
    return;
  }
  session::migrate_wire::migrate_request req{session_id, user_id, seq, svc->config.node_id};
  take_over(svc, req, timeout, std::move(done));
}

}  // namespace herald::dispatch
