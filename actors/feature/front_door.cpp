// SPDX-License-Identifier: Apache-2.0
#include "actors/feature/front_door.hpp"

#include <algorithm>
#include <chrono>
#include <functional>
#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/actor_registry.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/feature/feature_wire.hpp"
#include "actors/rest/responses.hpp"
#include "actors/services/dispatch_error.hpp"
#include "actors/services/placement.hpp"
#include "runtime/cluster/cluster_view.hpp"
#include "runtime/log/log.hpp"

namespace herald::feature {

namespace {

using run_atom = caf::atom_constant<caf::atom("f_run")>;
using answer_atom = caf::atom_constant<caf::atom("f_answer")>;
using sweep_atom = caf::atom_constant<caf::atom("f_sweep")>;
using expire_atom = caf::atom_constant<caf::atom("f_expire")>;

// --- the owner's side: one short-lived runner per forwarded request -------------------------

/// Runs one forwarded request's handler (which answers once, from any thread) and delivers its
/// answer to the requester, or the retryable error when none came within the timeout.
template <class Reply>
struct runner_state {
  caf::response_promise promise;
  bool answered = false;
  static inline const char* name = "feature_runner";
};

template <class Reply>
using start_fn = std::function<void(std::function<void(Reply)> answer)>;

template <class Reply>
caf::behavior runner(caf::stateful_actor<runner_state<Reply>>* self, start_fn<Reply> start,
                     std::chrono::milliseconds timeout) {
  auto finish = [self](caf::expected<Reply> r) {
    auto& st = self->state;
    if (st.answered) {
      return;
    }
    st.answered = true;
    if (r) {
      st.promise.deliver(std::move(*r));
    } else {
      st.promise.deliver(std::move(r.error()));
    }
    self->quit();
  };
  return {
      [self, start, timeout](run_atom) {
        self->state.promise = self->make_response_promise();
        self->delayed_send(self, timeout, expire_atom::value);
        // The handler answers on whatever thread it likes: the answer comes back as a message.
        auto me = caf::actor_cast<caf::actor>(self);
        start([me](Reply r) { caf::anon_send(me, answer_atom::value, std::move(r)); });
        return caf::delegated<Reply>{};
      },
      [finish](answer_atom, Reply& r) { finish(std::move(r)); },
      [finish](expire_atom) {
        finish(dispatch::make_error(dispatch::dispatch_errc::unavailable,
                                    "the feature did not answer in time"));
      },
  };
}

// --- the front door -------------------------------------------------------------------------

struct door_state {
  front_door_options opts;
  /// Peers' front doors found so far (monitored; forgotten when down or failing).
  std::map<uint16_t, caf::actor> peers;
  static inline const char* name = "feature_front_door";
};

using door_ptr = caf::stateful_actor<door_state>*;

caf::error unavailable(std::string why) {
  return dispatch::make_error(dispatch::dispatch_errc::unavailable, std::move(why));
}

caf::error refused(const std::string& why) {
  feature_wire::refused_counter().inc();
  log::get("feature")->warn("front door: refused a forwarded request: {}", why);
  return unavailable("refused: " + why);
}

const dispatch::services& svc_of(door_ptr self) {
  return *self->state.opts.rest->svc;
}

/// Why this node must not run a request for `guild_id` now ("" when it may).
std::string not_here(door_ptr self, uint64_t guild_id) {
  const auto& ctx = *self->state.opts.rest;
  if (ctx.draining != nullptr && ctx.draining->load()) {
    return "node draining";
  }
  if (dispatch::place(svc_of(self), guild_id).where != dispatch::placement::kind::local) {
    return "guild " + std::to_string(guild_id) + " is moving: this node does not own it";
  }
  return {};
}

/// Sends `req` to `owner`'s front door (found once through its membership actor) and delivers
/// the answer; any failure is the retryable error.
template <class Request, class Reply>
void forward(door_ptr self, uint16_t owner, Request req, caf::typed_response_promise<Reply> rp) {
  // One budget for the lookup and the call: the caller waits at most the request timeout.
  auto timeout = svc_of(self).config.request_timeout;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto left = [deadline] {
    auto rest = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    return std::max(rest, std::chrono::milliseconds{1});
  };
  auto fail = [owner](caf::typed_response_promise<Reply> p, const std::string& why) mutable {
    feature_wire::failures_counter().inc();
    p.deliver(unavailable("owner (node " + std::to_string(owner) + ") unreachable: " + why));
  };
  auto send = [self, owner, left, fail](const caf::actor& remote, Request r,
                                        caf::typed_response_promise<Reply> p) {
    feature_wire::calls_counter(true).inc();
    self->request(remote, left(), std::move(r))
        .then([p](Reply& reply) mutable { p.deliver(std::move(reply)); },
              [self, owner, remote, p, fail](caf::error& err) mutable {
                auto it = self->state.peers.find(owner);
                if (it != self->state.peers.end() && it->second == remote) {
                  self->state.peers.erase(it);
                }
                fail(p, dispatch::describe(err));
              });
  };
  if (auto it = self->state.peers.find(owner); it != self->state.peers.end()) {
    send(it->second, std::move(req), rp);
    return;
  }
  auto membership = svc_of(self).config.cluster->peer(owner);
  if (!membership) {
    fail(rp, "not connected");
    return;
  }
  self->request(membership, left(), cluster::lookup_service_atom::value, front_door_name)
      .then(
          [self, owner, req = std::move(req), rp, send, fail](caf::strong_actor_ptr& ptr) mutable {
            if (!ptr) {
              fail(rp, "it runs no feature front door");
              return;
            }
            auto remote = caf::actor_cast<caf::actor>(ptr);
            self->monitor(remote);
            self->state.peers[owner] = remote;
            send(remote, std::move(req), rp);
          },
          [rp, fail](caf::error& err) mutable { fail(rp, dispatch::describe(err)); });
}

/// Runs a forwarded REST call here: the feature's own handler, as for a client of this node.
caf::result<feature_wire::call_reply> run_call(door_ptr self, feature_wire::call_request& req) {
  feature_wire::calls_counter(false).inc();
  if (auto why = feature_wire::refusal_of(req); !why.empty()) {
    return refused(why);
  }
  const auto& routes = self->state.opts.table->routes;
  auto it = routes.find(front_door_table::route_key(req.feature, req.method, req.route));
  if (it == routes.end()) {
    return refused("no route " + req.method + " " + req.route + " of feature " + req.feature);
  }
  if (auto why = not_here(self, req.guild_id); !why.empty()) {
    return unavailable(why);
  }
  self->state.opts.epoch->check();
  rest::call c;
  c.ctx = self->state.opts.rest;
  c.user_id = req.user_id;
  c.params = feature_wire::params_of(req);
  c.query = std::move(req.query);
  c.body = std::move(req.body);
  start_fn<feature_wire::call_reply> start = [work = it->second.work, c](auto answer) mutable {
    c.respond = [answer](net::http_response r) { answer(feature_wire::to_wire(r)); };
    try {
      work(c);
    } catch (const std::exception&) {
      c.reply(rest::error_response(500, 0, "500: Internal Server Error"));
    }
  };
  auto r = self->spawn(runner<feature_wire::call_reply>, std::move(start),
                       svc_of(self).config.request_timeout);
  self->delegate(r, run_atom::value);
  return caf::delegated<feature_wire::call_reply>{};
}

/// Runs a forwarded decoration here with the feature's own decorator.
caf::result<feature_wire::decorate_reply> run_decorate(door_ptr self,
                                                       feature_wire::decorate_request& req) {
  feature_wire::calls_counter(false).inc();
  if (auto why = feature_wire::refusal_of(req); !why.empty()) {
    return refused(why);
  }
  const auto& decorators = self->state.opts.table->decorators;
  auto it = decorators.find(req.feature);
  if (it == decorators.end()) {
    return refused("no decorator of feature " + req.feature);
  }
  if (auto why = not_here(self, req.guild_id); !why.empty()) {
    return unavailable(why);
  }
  self->state.opts.epoch->check();
  rest::decorate_request dr{req.channel_id, req.user_id, std::move(req.message_ids)};
  start_fn<feature_wire::decorate_reply> start = [decorate = it->second, dr](auto answer) {
    decorate(dr, [answer](std::vector<std::string> fields) {
      answer(feature_wire::decorate_reply{std::move(fields)});
    });
  };
  auto r = self->spawn(runner<feature_wire::decorate_reply>, std::move(start),
                       svc_of(self).config.request_timeout);
  self->delegate(r, run_atom::value);
  return caf::delegated<feature_wire::decorate_reply>{};
}

void sweep(door_ptr self) {
  self->state.opts.epoch->check();
  self->delayed_send(self, self->state.opts.sweep_interval, sweep_atom::value);
}

caf::behavior front_door(door_ptr self, front_door_options opts) {
  self->state.opts = std::move(opts);
  self->set_down_handler([self](caf::down_msg& dm) {
    for (auto it = self->state.peers.begin(); it != self->state.peers.end();) {
      it = it->second.address() == dm.source ? self->state.peers.erase(it) : std::next(it);
    }
  });
  self->delayed_send(self, self->state.opts.sweep_interval, sweep_atom::value);
  return {
      [self](forward_atom, uint16_t owner, feature_wire::call_request& req) {
        auto rp = self->make_response_promise<feature_wire::call_reply>();
        forward(self, owner, std::move(req), rp);
        return rp;
      },
      [self](forward_atom, uint16_t owner, feature_wire::decorate_request& req) {
        auto rp = self->make_response_promise<feature_wire::decorate_reply>();
        forward(self, owner, std::move(req), rp);
        return rp;
      },
      [self](feature_wire::call_request& req) { return run_call(self, req); },
      [self](feature_wire::decorate_request& req) { return run_decorate(self, req); },
      [self](sweep_atom) { sweep(self); },
  };
}

}  // namespace

std::string front_door_table::route_key(const std::string& feature, const std::string& method,
                                        const std::string& path) {
  return feature + "\n" + method + " " + path;
}

caf::actor spawn_front_door(caf::actor_system& sys, front_door_options opts) {
  feature_wire::calls_counter(true);  // the series exist (0) on every clustered node
  feature_wire::calls_counter(false);
  feature_wire::failures_counter();
  feature_wire::refused_counter();
  auto door = sys.spawn(front_door, std::move(opts));
  sys.registry().put(front_door_name, door);
  return door;
}

void stop_front_door(caf::actor_system& sys, const caf::actor& door) {
  if (!door) {
    return;
  }
  if (sys.registry().get(front_door_name) == caf::actor_cast<caf::strong_actor_ptr>(door)) {
    sys.registry().erase(front_door_name);
  }
  caf::anon_send_exit(door, caf::exit_reason::user_shutdown);
}

}  // namespace herald::feature
