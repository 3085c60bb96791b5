// SPDX-License-Identifier: Apache-2.0
// The feature platform's enable rules (actors/feature/feature_set.hpp): only features named
// in features.enabled are built and started; an unknown or repeated name or a module breaking
// the contract stops the start with one line; stop() stops the started services once.
#include <atomic>
#include <memory>
#include <variant>

#include <caf/event_based_actor.hpp>

#include "actors/feature/feature_set.hpp"
#include "test/actors/dispatch/dispatch_fixture.hpp"

namespace herald::feature_test {
namespace {

using namespace std::chrono_literals;
using dispatch_test::dispatch_env;

/// A module whose build counts its calls and whose one keyed service spawns idle actors.
feature::feature_module counting_module(const std::string& name, std::shared_ptr<int> builds) {
  feature::feature_module m;
  m.name = name;
  m.summary = "test module";
  m.emits = {{"TEST_EVENT", 1u << 10}};
  m.build = [name,
             builds](const feature::feature_context&) -> caf::expected<feature::feature_instance> {
    ++*builds;
    feature::keyed_service_spec spec;
    spec.name = name + "_service";
    spec.kind = name + "_actor";
    spec.spawn = [](caf::actor_system& sys, uint64_t) -> caf::expected<caf::actor> {
      return sys.spawn(
          [](caf::event_based_actor*) -> caf::behavior { return {[](int x) { return x; }}; });
    };
    feature::feature_instance out;
    out.services.push_back(std::make_shared<feature::keyed_service>(std::move(spec)));
    return out;
  };
  return m;
}

std::string error_of(
    const std::variant<std::unique_ptr<feature::feature_set>, std::string>& started) {
  return started.index() == 1 ? std::get<1>(started) : std::string{};
}

TEST_CASE("only_the_enabled_features_are_built_and_started") {
  dispatch_env env;
  auto a = std::make_shared<int>(0);
  auto b = std::make_shared<int>(0);
  std::vector<feature::feature_module> available{counting_module("alpha", a),
                                                 counting_module("beta", b)};
  auto started = feature::feature_set::start(available, {"beta"}, {env.svc, nullptr}, 5s);
  REQUIRE(started.index() == 0);
  auto& set = *std::get<0>(started);
  CHECK(set.names() == std::vector<std::string>{"beta"});
  CHECK(*a == 0);
  CHECK(*b == 1);
  set.stop(5s);
  set.stop(5s);  // idempotent

  auto none = feature::feature_set::start(available, {}, {env.svc, nullptr}, 5s);
  REQUIRE(none.index() == 0);
  CHECK(std::get<0>(none)->names().empty());
  CHECK(*a == 0);
}

TEST_CASE("an_unknown_or_repeated_feature_or_a_broken_contract_stops_the_start") {
  dispatch_env env;
  auto builds = std::make_shared<int>(0);
  std::vector<feature::feature_module> available{counting_module("alpha", builds)};
  CHECK(error_of(feature::feature_set::start(available, {"gamma"}, {env.svc, nullptr}, 5s)) ==
        "features.enabled: unknown feature \"gamma\" (this build has: alpha)");
  CHECK(error_of(feature::feature_set::start(available, {"alpha", "alpha"}, {env.svc, nullptr}, 5s))
            .find("listed twice") != std::string::npos);
  available[0].emits.push_back({"bad name", 0});
  CHECK(error_of(feature::feature_set::start(available, {"alpha"}, {env.svc, nullptr}, 5s))
            .find("emits \"bad name\"") != std::string::npos);
  // alpha's first start built once; the later refusals built nothing more.
  CHECK(*builds == 1);
}

TEST_CASE("a_route_whose_declared_guild_parameter_is_not_in_its_path_stops_the_start") {
  dispatch_env env;
  auto builds = std::make_shared<int>(0);
  auto with_route = [&](feature::route r) {
    auto m = counting_module("alpha", builds);
    auto build = m.build;
    m.build = [build, r](const feature::feature_context& ctx) {
      auto out = build(ctx);
      if (out) {
        out->routes.push_back(r);
      }
      return out;
    };
    return std::vector<feature::feature_module>{m};
  };
  auto noop = [](const rest::call&) {};
  // The default: the guild of the path's {channel_id}.
  CHECK(error_of(feature::feature_set::start(with_route({"GET", "/guilds/{guild_id}/x", noop}),
                                             {"alpha"}, {env.svc, nullptr}, 5s)) ==
        "feature alpha: route GET /guilds/{guild_id}/x has no {channel_id}: name the parameter "
        "that says its guild (by_channel, by_guild) or declare any_node()");
  auto ok = [&](feature::request_guild g) {
    auto started = feature::feature_set::start(
        with_route({"GET", "/guilds/{guild_id}/x", noop, true, std::move(g)}), {"alpha"},
        {env.svc, nullptr}, 5s);
    bool fine = started.index() == 0;
    if (fine) {
      std::get<0>(started)->stop(5s);
    }
    return fine;
  };
  CHECK(ok(feature::by_guild("guild_id")));
  CHECK(ok(feature::any_node()));
  CHECK_FALSE(ok(feature::by_channel("guild")));
}

TEST_CASE("a_keyed_service_starts_one_actor_per_key_and_stops_them") {
  dispatch_env env;
  feature::keyed_service_spec spec;
  spec.name = "keyed_test";
  spec.kind = "keyed_test_actor";
  spec.spawn = [](caf::actor_system& sys, uint64_t key) -> caf::expected<caf::actor> {
    return sys.spawn([key](caf::event_based_actor*) -> caf::behavior {
      return {[key](int) { return static_cast<int>(key); }};
    });
  };
  feature::keyed_service svc{std::move(spec)};
  REQUIRE_FALSE(svc.start(*env.system, 5s));
  auto first = svc.ensure_started(7, 5s);
  REQUIRE(first);
  CHECK(*svc.ensure_started(7, 5s) == *first);
  CHECK(svc.lookup(8) == caf::actor{});
  auto answer = feature::call<int>(*env.system, svc, 8, 5s, 1);
  REQUIRE(answer);
  CHECK(*answer == 8);
  CHECK(svc.actors().size() == 2);
  svc.stop(5s);
  CHECK(dispatch_test::eventually([&] { return svc.actors().size() == 0; }, 10s));
}

}  // namespace
}  // namespace herald::feature_test
