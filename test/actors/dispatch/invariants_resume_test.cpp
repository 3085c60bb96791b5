// SPDX-License-Identifier: Apache-2.0
// Invariant 3: resume within the window replays exactly the missed events; a
// seq never sent or one whose successors were evicted is refused. A session
// closed by its client ends and receives nothing afterwards.
#include <caf/send.hpp>

#include "actors/relay/relay_messages.hpp"
#include "test/actors/dispatch/dispatch_fixture.hpp"

namespace herald::dispatch_test {
namespace {

constexpr uint64_t guild_id = uint64_t{400} << 22;
constexpr uint64_t channel_id = guild_id + 1;
constexpr uint64_t owner = 30;
constexpr uint64_t alice = 31;
constexpr uint64_t bob = 32;

void seed(dispatch_env& env) {
  guild_seed{guild_id, owner}
      .add_member(alice)
      .add_member(bob)
      .add_channel(channel_id)
      .save(*env.storage);
}

std::vector<uint64_t> publish_messages(dispatch_env& env, size_t n) {
  std::vector<uint64_t> ids;
  for (size_t i = 0; i < n; ++i) {
    ids.push_back(next_message_id());
    publish_ok(env.svc, message_create(guild_id, channel_id, owner, ids.back(), "r"));
  }
  return ids;
}

bool wait_down(caf::actor_system& sys, const caf::actor& who) {
  caf::scoped_actor self{sys};
  self->monitor(who);
  bool down = false;
  self->receive([&](const caf::down_msg&) { down = true; },
                caf::after(std::chrono::seconds{10}) >> [] {});
  return down;
}

}  // namespace

TEST_CASE("resume_within_the_window_replays_exactly_the_missed_frames") {
  dispatch_env env;
  seed(env);
  auto s = open_subscribed(env.svc, session_for(alice, {guild_id}));
  publish_messages(env, 5);
  REQUIRE(s->drain_until_count(7));
  const uint64_t last_seen = seq_of(s->frames().back());
  REQUIRE(last_seen == 7);

  // The connection drops; events keep coming.
  s->detach();
  caf::anon_send(s->actor(), session::disconnected_atom::value);
  auto missed = publish_messages(env, 9);
  REQUIRE(eventually([&] { return s->buffer().last_seq() == last_seen + 9; }));

  auto replay =
      std::make_unique<session_probe>(dispatch::opened_session{s->actor(), s->output()}, false);
  REQUIRE(replay->attach_resumed(last_seen) == session::resume_status::ok);
  caf::anon_send(s->actor(), session::connected_atom::value);
  REQUIRE(replay->drain_until_count(9));
  CHECK(replay->frames().size() == 9);
  require_contiguous(replay->frames(), last_seen + 1);
  CHECK(message_ids(replay->frames()) == missed);

  // Live again: later events follow the replay without a gap.
  publish_messages(env, 3);
  REQUIRE(replay->drain_until_count(12));
  CHECK(replay->frames().size() == 12);
  require_contiguous(replay->frames(), last_seen + 1);
}

TEST_CASE("resume_at_the_last_seq_replays_nothing_and_continues") {
  dispatch_env env;
  seed(env);
  auto s = open_subscribed(env.svc, session_for(alice, {guild_id}));
  s->detach();
  REQUIRE(s->attach_resumed(2) == session::resume_status::ok);
  CHECK(s->drain() == 0);
  publish_messages(env, 1);
  REQUIRE(s->drain_until_count(3));
  CHECK(seq_of(s->frames().back()) == 3);
}

TEST_CASE("resume_with_a_seq_never_sent_is_refused") {
  dispatch_env env;
  seed(env);
  auto s = open_subscribed(env.svc, session_for(alice, {guild_id}));
  publish_messages(env, 2);
  REQUIRE(eventually([&] { return s->buffer().last_seq() == 4; }));
  s->detach();
  CHECK(s->attach_resumed(5) == session::resume_status::seq_never_sent);
  CHECK(s->attach_resumed(1000) == session::resume_status::seq_never_sent);
  CHECK(s->attach_resumed(4) == session::resume_status::ok);
}

TEST_CASE("resume_after_the_missed_frames_were_evicted_is_refused") {
  dispatch::dispatch_config dc;
  dc.session_limits.resume_max_frames = 8;
  dispatch_env env{dc};
  seed(env);
  auto s = open_subscribed(env.svc, session_for(alice, {guild_id}));
  s->detach();  // disconnected: nothing collects, the resume ring rolls over
  publish_messages(env, 20);
  REQUIRE(eventually([&] { return s->buffer().last_seq() == 22; }));
  CHECK(s->buffer().held_frames() <= 8);
  const uint64_t first_held = s->buffer().first_held_seq();
  REQUIRE(first_held > 2);
  CHECK(s->attach_resumed(2) == session::resume_status::too_old);
  CHECK(s->attach_resumed(first_held - 2) == session::resume_status::too_old);
  // The oldest resumable point is the seq just before the first held frame.
  s->frames().clear();
  REQUIRE(s->attach_resumed(first_held - 1) == session::resume_status::ok);
  REQUIRE(s->drain_until_count(22 - first_held + 1));
  require_contiguous(s->frames(), first_held);
}

TEST_CASE("a_session_closed_by_its_client_ends_and_receives_no_later_events") {
  dispatch_env env;
  seed(env);
  auto closing = open_subscribed(env.svc, session_for(alice, {guild_id}));
  auto witness = open_subscribed(env.svc, session_for(bob, {guild_id}));
  publish_messages(env, 2);
  REQUIRE(closing->drain_until_count(4));
  REQUIRE(witness->drain_until_count(4));

  caf::anon_send(closing->actor(), session::close_atom::value);
  REQUIRE(wait_down(*env.system, closing->actor()));
  // The session is gone from the registry: a resume cannot find it.
  REQUIRE(eventually([&] { return !env.svc->sessions.lookup(closing->output()->session_id()); }));

  // The session's unsubscribe travels session -> relay -> partition and is
  // not ordered with events travelling guild -> partition: an event
  // published right after the session died may still be appended to its
  // orphaned buffer. A round trip through the relay (which forwards the
  // unsubscribe, sent before the session's down message, to the partition
  // before it replies) orders everything published afterwards behind it.
  auto relay = env.svc->relays.lookup(guild_id);
  REQUIRE(relay);
  caf::scoped_actor self{*env.system};
  bool relay_answered = false;
  self->request(relay, std::chrono::seconds{10}, relay::partitions_atom::value)
      .receive([&](std::vector<caf::actor>&) { relay_answered = true; }, [](caf::error&) {});
  REQUIRE(relay_answered);

  const uint64_t last = closing->buffer().last_seq();
  auto later = publish_messages(env, 5);
  // The witness shares the relay partition: once it has every later event,
  // the closed session would have had them too.
  REQUIRE(witness->drain_until_count(9));
  CHECK(message_ids(witness->frames()).back() == later.back());
  CHECK(closing->buffer().last_seq() == last);
  closing->drain();
  CHECK(closing->frames().size() == 4);
}

}  // namespace herald::dispatch_test
