// SPDX-License-Identifier: Apache-2.0
// Bug A: a session that has ended receives nothing more, not even an event
// that was already on its way to its relay partition when it ended (the
// session's unsubscribe is not ordered with the guild's events; the closed
// flag on its output is).
#include <caf/send.hpp>

#include "test/actors/dispatch/dispatch_fixture.hpp"

namespace herald::dispatch_test {
namespace {

constexpr uint64_t guild_id = uint64_t{410} << 22;
constexpr uint64_t channel_id = guild_id + 1;
constexpr uint64_t owner = 40;
constexpr uint64_t alice = 41;
constexpr uint64_t bob = 42;

}  // namespace

TEST_CASE("an_ended_session_receives_no_event_published_right_after_it_ended") {
  dispatch_env env;
  guild_seed{guild_id, owner}
      .add_member(alice)
      .add_member(bob)
      .add_channel(channel_id)
      .save(*env.storage);
  auto closing = open_subscribed(env.svc, session_for(alice, {guild_id}));
  auto witness = open_subscribed(env.svc, session_for(bob, {guild_id}));
  REQUIRE(closing->drain_until_count(2));
  REQUIRE(witness->drain_until_count(2));

  caf::scoped_actor self{*env.system};
  self->monitor(closing->actor());
  caf::anon_send(closing->actor(), session::close_atom::value);
  bool down = false;
  self->receive([&](const caf::down_msg&) { down = true; },
                caf::after(std::chrono::seconds{10}) >> [] {});
  REQUIRE(down);
  // Closed by the session's exit hook, right after its down message went out.
  REQUIRE(eventually([&] { return closing->output()->closed(); }));

  // No round trip through the relay: these events may reach the partition
  // before the session's unsubscribe does.
  const uint64_t last = closing->buffer().last_seq();
  for (int i = 0; i < 5; ++i) {
    publish_ok(env.svc, message_create(guild_id, channel_id, owner, next_message_id(), "late"));
  }
  REQUIRE(witness->drain_until_count(7));
  CHECK(closing->buffer().last_seq() == last);
}

}  // namespace herald::dispatch_test
