// SPDX-License-Identifier: Apache-2.0
// Invariant 1: a session's dispatches carry s = 1, 2, 3, … with no gaps or
// repeats; READY is s = 1 and each guild's GUILD_CREATE precedes its events.
#include "test/actors/dispatch/dispatch_fixture.hpp"

namespace herald::dispatch_test {
namespace {

constexpr uint64_t guild_a = uint64_t{100} << 22;
constexpr uint64_t guild_b = uint64_t{200} << 22;
constexpr uint64_t owner = 10;
constexpr uint64_t alice = 11;

}  // namespace

TEST_CASE("a_session_numbers_its_dispatches_one_by_one_from_ready_on") {
  dispatch_env env;
  guild_seed{guild_a, owner}.add_member(alice).add_channel(guild_a + 1).save(*env.storage);
  auto s = open_subscribed(env.svc, session_for(alice, {guild_a}));
  constexpr size_t events = 60;
  for (size_t i = 0; i < events; ++i) {
    if (i % 10 == 9) {
      publish_ok(env.svc, typing_start(guild_a, guild_a + 1, owner));
    } else {
      publish_ok(env.svc, message_create(guild_a, guild_a + 1, owner, next_message_id(), "hi"));
    }
  }
  REQUIRE(s->drain_until_count(2 + events));
  const auto& f = s->frames();
  REQUIRE(f.size() == 2 + events);
  CHECK(type_of(f[0]) == "READY");
  CHECK(type_of(f[1]) == "GUILD_CREATE");
  CHECK(id_in(f[1]) == guild_a);
  require_contiguous(f);
  CHECK(count_type(f, "MESSAGE_CREATE") == 54);
  CHECK(count_type(f, "TYPING_START") == 6);
  CHECK(s->buffer().last_seq() == 2 + events);
}

TEST_CASE("a_session_in_two_guilds_numbers_both_streams_in_one_sequence") {
  dispatch_env env;
  guild_seed{guild_a, owner}.add_member(alice).add_channel(guild_a + 1).save(*env.storage);
  guild_seed{guild_b, owner}.add_member(alice).add_channel(guild_b + 1).save(*env.storage);
  auto s = open_subscribed(env.svc, session_for(alice, {guild_a, guild_b}));
  CHECK(type_of(s->frames()[0]) == "READY");
  CHECK(type_of(s->frames()[1]) == "GUILD_CREATE");
  CHECK(type_of(s->frames()[2]) == "GUILD_CREATE");

  // Two producers, one per guild, so the two relays append concurrently.
  constexpr size_t per_guild = 80;
  auto produce = [&env](uint64_t guild) {
    for (size_t i = 0; i < per_guild; ++i) {
      auto ack = dispatch::publish(
          env.svc, message_create(guild, guild + 1, owner, next_message_id(), "x"), 10s);
      if (!ack) {
        return false;
      }
    }
    return true;
  };
  bool ok_a = false;
  std::thread other{[&] { ok_a = produce(guild_a); }};
  bool ok_b = produce(guild_b);
  other.join();
  REQUIRE(ok_a);
  REQUIRE(ok_b);
  REQUIRE(s->drain_until_count(3 + 2 * per_guild));
  REQUIRE(s->frames().size() == 3 + 2 * per_guild);
  require_contiguous(s->frames());
  size_t from_a = 0;
  size_t from_b = 0;
  for (const auto& f : s->frames()) {
    if (type_of(f) == "MESSAGE_CREATE") {
      (id_in(f, "guild_id") == guild_a ? from_a : from_b) += 1;
    }
  }
  CHECK(from_a == per_guild);
  CHECK(from_b == per_guild);
}

TEST_CASE("every_frame_collected_by_a_connection_is_one_whole_json_dispatch") {
  dispatch_env env;
  guild_seed{guild_a, owner}.add_member(alice).add_channel(guild_a + 1).save(*env.storage);
  auto s = open_subscribed(env.svc, session_for(alice, {guild_a}));
  // Content that looks like frame syntax must not confuse framing or seqs.
  const std::string tricky = "}{\"op\":0,\"s\":99}";
  publish_ok(env.svc, message_create(guild_a, guild_a + 1, owner, next_message_id(), tricky));
  publish_ok(env.svc, message_create(guild_a, guild_a + 1, owner, next_message_id(), "\\\"{"));
  REQUIRE(s->drain_until_count(4));
  require_contiguous(s->frames());
  CHECK(s->frames()[2].at("d").at("content") == tricky);
  CHECK(s->frames()[3].at("d").at("content") == "\\\"{");
  for (const auto& f : s->frames()) {
    CHECK(f.contains("d"));
    CHECK(f.at("t").is_string());
  }
}

}  // namespace herald::dispatch_test
