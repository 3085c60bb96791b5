// SPDX-License-Identifier: Apache-2.0
#include "actors/dispatch/session_migration.hpp"

#include <memory>
#include <vector>

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

/// The nodes that may hold a session this node does not: the one its id names (it opened it),
/// then every other node up in this node's view (a session moves again when the node that took
/// it over drains in turn: a rolling restart), never this node.
std::vector<uint16_t> holders_of(const services& svc, uint64_t session_id) {
  std::vector<uint16_t> out;
  auto self = static_cast<uint16_t>(svc.config.node_id & domain::max_node_id);
  auto minted = static_cast<uint16_t>(node_id_of_session(session_id));
  if (minted != self) {
    out.push_back(minted);
  }
  for (const auto& n : svc.config.cluster->nodes()) {
    if (n.up && !n.self && n.id != minted) {
      out.push_back(n.id);
    }
  }
  return out;
}

void start_taken(const services_ptr& svc, const session::migrate_wire::migrate_reply& reply,
                 std::chrono::milliseconds timeout, session_callback done) {
  auto output = migrated_output(svc, reply);
  start_session_async(svc, migrated_params(reply), output, timeout,
                      [done = std::move(done)](caf::expected<opened_session> opened) {
                        if (opened) {
                          static auto& in = session::sessions_migrated("in");
                          in.inc();
                        }
                        done(std::move(opened));
                      });
}

/// Asks holders[next], then the following ones, through this node's router, until one hands
/// the session over; the last refusal otherwise. One request at a time: at most one node can
/// hold the session, and a refusal changes nothing there.
void ask_holders(caf::event_based_actor* self, const services_ptr& svc,
                 const session::migrate_wire::migrate_request& req,
                 std::shared_ptr<const std::vector<uint16_t>> holders, size_t next,
                 std::chrono::milliseconds timeout, session_callback done) {
  self->request(svc->router, timeout, route_migrate_atom::value, (*holders)[next], req)
      .then(
          [self, svc, req, timeout, done](session::migrate_wire::migrate_reply& reply) {
            if (session::migrate_wire::valid_reply(req, reply)) {
              start_taken(svc, reply, timeout, done);
            } else {
              done(make_error(dispatch_errc::unavailable, "malformed migrate reply"));
            }
            self->quit();
          },
          [self, svc, req, holders, next, timeout, done](caf::error& err) {
            if (next + 1 < holders->size()) {
              ask_holders(self, svc, req, holders, next + 1, timeout, done);
              return;
            }
            done(std::move(err));
            self->quit();
          });
}

}  // namespace

void resume_anywhere_async(const services_ptr& svc, uint64_t session_id, uint64_t user_id,
                           uint64_t seq, std::chrono::milliseconds timeout, session_callback done) {
  // A session here (opened here, or taken over earlier under another node's bits) first.
  if (!svc->config.cluster || svc->sessions.lookup(session_id)) {
    resume_session_async(svc, session_id, timeout, std::move(done));
    return;
  }
  auto holders = std::make_shared<const std::vector<uint16_t>>(holders_of(*svc, session_id));
  if (holders->empty()) {
    resume_session_async(svc, session_id, timeout, std::move(done));  // refused as unknown
    return;
  }
  session::migrate_wire::migrate_request req{session_id, user_id, seq, svc->config.node_id};
  svc->system.spawn(
      [svc, req, holders, timeout, done = std::move(done)](caf::event_based_actor* self) mutable {
        ask_holders(self, svc, req, holders, 0, timeout, std::move(done));
      });
}

}  // namespace herald::dispatch
