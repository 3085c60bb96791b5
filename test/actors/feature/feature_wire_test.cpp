// SPDX-License-Identifier: Apache-2.0
// The feature front doors' wire types (actors/feature/feature_wire.hpp): each survives CAF's
// binary serialisation under its announced wire name (what BASP does between nodes), a REST
// call and its answer keep every part through the wire form, and malformed requests are named
// by refusal_of. The front door acting on them: front_door_test.cpp; between real nodes:
// test/integration/cluster/feature_routing_test.cpp.
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/rtti_pair.hpp>
#include <caf/uniform_type_info_map.hpp>
#include <catch2/catch.hpp>

#include "actors/feature/feature_wire.hpp"

namespace herald::feature {

namespace {

struct wire_system {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> system;
  wire_system() {
    feature_wire::announce_feature_wire_types(cfg);
    system = std::make_unique<caf::actor_system>(cfg);
  }

  /// `x` in a message, serialised and read back (REQUIREs both steps to succeed).
  template <class T>
  T round_trip(T x) {
    auto msg = caf::make_message(std::move(x));
    std::vector<char> buf;
    caf::binary_serializer sink{*system, buf};
    REQUIRE(!sink(msg));  // fails for a type the system does not know by name
    caf::message back;
    caf::binary_deserializer source{*system, buf};
    REQUIRE(!source(back));
    REQUIRE(back.match_elements<T>());
    return back.get_as<T>(0);
  }

  template <class T>
  std::string wire_name() {
    return system->types().portable_name(caf::make_rtti_pair<T>());
  }
};

feature_wire::call_request sample_call() {
  return feature_wire::to_wire(
      "reactions", "PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
      1351860123456789504u, 42,
      {{"channel_id", "7"}, {"message_id", "8"}, {"emoji", "%F0%9F%91%8D"}}, "limit=5", "{}");
}

}  // namespace

TEST_CASE("a_forwarded_feature_call_survives_cafs_binary_serialisation_under_its_wire_name") {
  wire_system w;
  auto back = w.round_trip(sample_call());
  CHECK(back.feature == "reactions");
  CHECK(back.method == "PUT");
  CHECK(back.route == "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me");
  CHECK(back.guild_id == 1351860123456789504u);
  CHECK(back.user_id == 42);
  CHECK(back.query == "limit=5");
  CHECK(back.body == "{}");
  CHECK(feature_wire::refusal_of(back).empty());
  auto params = feature_wire::params_of(back);
  REQUIRE(params.size() == 3);
  CHECK(params[2] == std::pair<std::string, std::string>{"emoji", "%F0%9F%91%8D"});
  CHECK(w.wire_name<feature_wire::call_request>() == "herald.feature.call_request.v1");
}

TEST_CASE("a_feature_calls_http_answer_keeps_status_headers_and_body_through_the_wire") {
  wire_system w;
  net::http_response r{503, "application/json", "{\"code\":0}", {{"Retry-After", "1"}}};
  auto back = feature_wire::from_wire(w.round_trip(feature_wire::to_wire(r)));
  CHECK(back.status == 503);
  CHECK(back.content_type == "application/json");
  CHECK(back.body == "{\"code\":0}");
  REQUIRE(back.headers.size() == 1);
  CHECK(back.headers[0] == std::pair<std::string, std::string>{"Retry-After", "1"});
  CHECK(w.wire_name<feature_wire::call_reply>() == "herald.feature.call_reply.v1");
}

TEST_CASE("a_forwarded_decoration_and_its_fields_survive_the_wire_under_their_names") {
  wire_system w;
  auto req = w.round_trip(feature_wire::decorate_request{"pins", 5, 7, 42, {8, 9}});
  CHECK(req.feature == "pins");
  CHECK(req.guild_id == 5);
  CHECK(req.channel_id == 7);
  CHECK(req.user_id == 42);
  CHECK(req.message_ids == std::vector<uint64_t>{8, 9});
  CHECK(feature_wire::refusal_of(req).empty());
  auto reply = w.round_trip(feature_wire::decorate_reply{{"\"pinned\":true", ""}});
  CHECK(reply.fields == std::vector<std::string>{"\"pinned\":true", ""});
  CHECK(w.wire_name<feature_wire::decorate_request>() == "herald.feature.decorate_request.v1");
  CHECK(w.wire_name<feature_wire::decorate_reply>() == "herald.feature.decorate_reply.v1");
}

TEST_CASE("malformed_forwarded_requests_are_named_by_refusal_of") {
  auto no_guild = sample_call();
  no_guild.guild_id = 0;
  CHECK(!feature_wire::refusal_of(no_guild).empty());
  auto odd = sample_call();
  odd.params.pop_back();
  CHECK(!feature_wire::refusal_of(odd).empty());
  auto unnamed = sample_call();
  unnamed.feature.clear();
  CHECK(!feature_wire::refusal_of(unnamed).empty());
  feature_wire::decorate_request too_many{"pins", 5, 7, 42, {}};
  too_many.message_ids.assign(feature_wire::max_decorated_messages + 1, 8);
  CHECK(!feature_wire::refusal_of(too_many).empty());
  CHECK(!feature_wire::refusal_of(feature_wire::decorate_request{"pins", 5, 0, 42, {8}}).empty());
}

}  // namespace herald::feature
