// SPDX-License-Identifier: Apache-2.0
// The feature front door (actors/feature/front_door.hpp) on a node of a two-node view: a
// forwarded call or decoration for a guild this node owns runs the feature's own handler and
// answers its HTTP answer; one for a guild the peer owns, a malformed one or one for a route
// this node does not run is refused with the retryable error, the malformed and unknown ones
// counted; a forward to a peer that is not connected fails (counted) instead of waiting; and
// a change of the ring stops the feature's keyed actors, which start again at their next use.
// Between real nodes: test/integration/cluster/feature_routing_test.cpp.
#include <atomic>
#include <memory>
#include <string>

#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <catch2/catch.hpp>

#include "actors/feature/feature_wire.hpp"
#include "actors/feature/front_door.hpp"
#include "actors/rest/responses.hpp"
#include "actors/services/dispatch_error.hpp"
#include "runtime/metrics/metrics.hpp"
#include "test/actors/dispatch/cluster_fixture.hpp"
#include "test/actors/dispatch/dispatch_fixture.hpp"

namespace herald::feature {

namespace {

using namespace std::chrono_literals;
using dispatch_test::dispatch_env;

const std::string route_path = "/channels/{channel_id}/things";

uint64_t counter(const char* name, const metrics::labels& labels = {}) {
  return metrics::registry::global().get_counter(name, "", labels).value();
}

/// A node of a two-node view with a front door over one route and one decorator of feature
/// "things" and one keyed service; `runs` counts the route's handler calls.
struct door_env {
  std::shared_ptr<cluster::cluster_view> view = dispatch_test::two_node_view();
  dispatch_env env{dispatch_test::clustered_config(view, 2s)};
  std::shared_ptr<std::atomic<int>> runs = std::make_shared<std::atomic<int>>(0);
  keyed_service_ptr things;
  caf::actor door;

  door_env() {
    keyed_service_spec spec;
    spec.name = "things";
    spec.kind = "thing";
    spec.spawn = [](caf::actor_system& sys, uint64_t) -> caf::expected<caf::actor> {
      return sys.spawn(
          [](caf::event_based_actor*) -> caf::behavior { return {[](int x) { return x; }}; });
    };
    things = std::make_shared<keyed_service>(std::move(spec));
    REQUIRE(!things->start(*env.system, 5s));
    auto table = std::make_shared<front_door_table>();
    table->routes[front_door_table::route_key("things", "PUT", route_path)] = {
        [runs = runs](const rest::call& c) {
          ++*runs;
          c.reply(rest::json_response(201, "{\"user\":" + std::to_string(c.user_id) +
                                               ",\"channel\":\"" + c.param("channel_id") +
                                               "\",\"body\":" + c.body + "}"));
        },
        by_channel()};
    table->decorators["things"] = [](const rest::decorate_request& req, rest::decorate_done done) {
      done(std::vector<std::string>(req.message_ids.size(), "\"thing\":true"));
    };
    auto ctx = std::make_shared<rest::rest_context>();
    ctx->svc = env.svc;
    front_door_options opts;
    opts.rest = ctx;
    opts.table = table;
    opts.epoch = std::make_shared<ownership_epoch>(view, std::vector<keyed_service_ptr>{things});
    opts.sweep_interval = 20ms;
    door = spawn_front_door(*env.system, opts);
  }
  ~door_env() {
    stop_front_door(*env.system, door);
    things->stop(5s);
  }

  uint64_t guild_of(uint16_t owner) const {
    return dispatch_test::guild_owned_by(*view, owner, uint64_t{1} << 40);
  }

  /// The answer to `msg`, or its error.
  template <class Reply, class... Ts>
  caf::expected<Reply> ask(Ts... xs) {
    caf::scoped_actor self{*env.system};
    caf::expected<Reply> out{caf::error{}};
    self->request(door, 10s, xs...)
        .receive([&](Reply& r) { out = std::move(r); }, [&](caf::error& err) { out = err; });
    return out;
  }
};

feature_wire::call_request call_for(uint64_t guild_id) {
  return feature_wire::to_wire("things", "PUT", route_path, guild_id, 42, {{"channel_id", "7"}}, "",
                               "{\"a\":1}");
}

bool is_unavailable(const caf::error& err) {
  return dispatch::is_error(err, dispatch::dispatch_errc::unavailable);
}

}  // namespace

TEST_CASE(
    "a_forwarded_call_for_an_owned_guild_runs_the_features_handler_and_answers_its_response") {
  door_env d;
  auto in_before = counter("herald_cluster_feature_calls_total", {{"direction", "in"}});
  auto reply = d.ask<feature_wire::call_reply>(call_for(d.guild_of(dispatch_test::self_id)));
  REQUIRE(reply);
  CHECK(reply->status == 201);
  CHECK(reply->body == "{\"user\":42,\"channel\":\"7\",\"body\":{\"a\":1}}");
  CHECK(*d.runs == 1);
  CHECK(counter("herald_cluster_feature_calls_total", {{"direction", "in"}}) == in_before + 1);

  auto fields = d.ask<feature_wire::decorate_reply>(
      feature_wire::decorate_request{"things", d.guild_of(dispatch_test::self_id), 7, 42, {8, 9}});
  REQUIRE(fields);
  CHECK(fields->fields == std::vector<std::string>{"\"thing\":true", "\"thing\":true"});
}

TEST_CASE("a_forwarded_call_for_a_guild_this_node_does_not_own_is_refused_retryably_unrun") {
  door_env d;
  auto reply = d.ask<feature_wire::call_reply>(call_for(d.guild_of(dispatch_test::peer_id)));
  REQUIRE(!reply);
  CHECK(is_unavailable(reply.error()));
  CHECK(*d.runs == 0);
}

TEST_CASE("malformed_forwarded_requests_and_unknown_routes_are_refused_and_counted") {
  door_env d;
  auto refused_before = counter("herald_cluster_feature_refused_total");
  auto odd = call_for(d.guild_of(dispatch_test::self_id));
  odd.params.pop_back();
  auto r1 = d.ask<feature_wire::call_reply>(odd);
  REQUIRE(!r1);
  CHECK(is_unavailable(r1.error()));
  auto unknown = call_for(d.guild_of(dispatch_test::self_id));
  unknown.route = "/channels/{channel_id}/other";
  auto r2 = d.ask<feature_wire::call_reply>(unknown);
  REQUIRE(!r2);
  auto r3 = d.ask<feature_wire::decorate_reply>(
      feature_wire::decorate_request{"nothing", d.guild_of(dispatch_test::self_id), 7, 42, {8}});
  REQUIRE(!r3);
  CHECK(*d.runs == 0);
  CHECK(counter("herald_cluster_feature_refused_total") == refused_before + 3);
}

TEST_CASE("a_forward_to_an_unconnected_owner_fails_retryably_and_is_counted") {
  door_env d;
  auto failures_before = counter("herald_cluster_feature_call_failures_total");
  auto reply = d.ask<feature_wire::call_reply>(forward_atom::value, dispatch_test::peer_id,
                                               call_for(d.guild_of(dispatch_test::peer_id)));
  REQUIRE(!reply);
  CHECK(is_unavailable(reply.error()));
  CHECK(counter("herald_cluster_feature_call_failures_total") == failures_before + 1);
}

TEST_CASE("a_ring_change_stops_the_keyed_actors_which_start_again_at_their_next_use") {
  door_env d;
  auto first = d.things->ensure_started(7, 5s);
  REQUIRE(first);
  REQUIRE(d.things->lookup(7) == *first);
  // A new ring generation (the same members): guilds may have been ordered elsewhere meanwhile.
  auto nodes = d.view->nodes();
  d.view->publish(
      nodes, std::make_shared<const cluster::ring>(
                 std::vector<uint16_t>{dispatch_test::self_id, dispatch_test::peer_id}, 64, 2));
  CHECK(testing::eventually([&] { return !d.things->lookup(7); }, 10s));
  auto again = d.things->ensure_started(7, 5s);
  REQUIRE(again);
  CHECK(*again != *first);
}

}  // namespace herald::feature
