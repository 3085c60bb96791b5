// SPDX-License-Identifier: Apache-2.0
// Invariant 5: a slow client cannot grow memory without bound. Its queue is
// capped; past it the connection is told to close (resumably), the session's
// memory stays within the resume limits, and the client can resume.
#include "test/actors/dispatch/dispatch_fixture.hpp"

namespace herald::dispatch_test {
namespace {

constexpr uint64_t guild_id = uint64_t{500} << 22;
constexpr uint64_t channel_id = guild_id + 1;
constexpr uint64_t owner = 40;
constexpr uint64_t alice = 41;
constexpr uint64_t bob = 42;

dispatch::dispatch_config small_limits() {
  dispatch::dispatch_config dc;
  dc.session_limits.queue_max_frames = 16;
  dc.session_limits.queue_max_bytes = 64u << 10;
  dc.session_limits.resume_max_frames = 48;
  dc.session_limits.resume_max_bytes = 256u << 10;
  return dc;
}

// Publishes n messages; `keeping_up`, if given, is drained as each is acked.
void publish_messages(dispatch_env& env, size_t n, size_t content_bytes = 100,
                      session_probe* keeping_up = nullptr) {
  for (size_t i = 0; i < n; ++i) {
    publish_ok(env.svc, message_create(guild_id, channel_id, owner, next_message_id(),
                                       std::string(content_bytes, 'c')));
    if (keeping_up != nullptr) {
      keeping_up->drain();
    }
  }
}

}  // namespace

TEST_CASE("a_listener_that_never_collects_is_told_to_close_once_and_can_resume") {
  auto dc = small_limits();
  dispatch_env env{dc};
  guild_seed{guild_id, owner}
      .add_member(alice)
      .add_member(bob)
      .add_channel(channel_id)
      .save(*env.storage);
  auto slow = open_probe(env.svc, session_for(alice, {guild_id}));  // attached, never drained
  auto fast = open_subscribed(env.svc, session_for(bob, {guild_id}));
  REQUIRE(eventually([&] { return slow->buffer().last_seq() >= 2; }));

  publish_messages(env, 20, 100, fast.get());  // 22 frames > queue_max_frames (16)
  REQUIRE(fast->drain_until_count(22));
  REQUIRE(eventually([&] { return slow->buffer().last_seq() == 22; }));
  CHECK(slow->sink().overflows() == 1);
  CHECK(slow->buffer().overflowed());
  // An overflowed connection collects nothing more: it is being closed.
  CHECK(slow->drain() == 0);
  // Nothing was evicted yet (within the resume bound): a resume gets it all.
  CHECK(slow->buffer().first_held_seq() == 1);

  slow->detach();
  REQUIRE(slow->attach_resumed(0) == session::resume_status::ok);
  REQUIRE(slow->drain_until_count(22));
  require_contiguous(slow->frames());
  CHECK(type_of(slow->frames()[0]) == "READY");
  CHECK(slow->sink().overflows() == 0);
  // The fast session never noticed.
  CHECK(fast->sink().overflows() == 0);
  require_contiguous(fast->frames());
}

TEST_CASE("a_session_nobody_collects_holds_at_most_the_resume_limits") {
  auto dc = small_limits();
  dispatch_env env{dc};
  guild_seed{guild_id, owner}.add_member(alice).add_channel(channel_id).save(*env.storage);
  auto slow = open_probe(env.svc, session_for(alice, {guild_id}));
  REQUIRE(eventually([&] { return slow->buffer().last_seq() >= 2; }));

  uint32_t max_frames = 0;
  uint64_t max_bytes = 0;
  for (int round = 0; round < 10; ++round) {
    publish_messages(env, 20, 2000);
    max_frames = std::max(max_frames, slow->buffer().held_frames());
    max_bytes = std::max(max_bytes, slow->buffer().held_bytes());
  }
  REQUIRE(eventually([&] { return slow->buffer().last_seq() == 202; }));
  max_frames = std::max(max_frames, slow->buffer().held_frames());
  max_bytes = std::max(max_bytes, slow->buffer().held_bytes());
  CHECK(slow->sink().overflows() == 1);
  CHECK(max_frames <= dc.session_limits.resume_max_frames);
  CHECK(max_bytes <= dc.session_limits.resume_max_bytes);

  // Too far behind to resume from the start, but the recent frames resume.
  slow->detach();
  CHECK(slow->attach_resumed(0) == session::resume_status::too_old);
  const uint64_t first_held = slow->buffer().first_held_seq();
  REQUIRE(slow->attach_resumed(first_held - 1) == session::resume_status::ok);
  REQUIRE(slow->drain_until_count(202 - first_held + 1));
  require_contiguous(slow->frames(), first_held);
}

TEST_CASE("a_session_whose_frames_exceed_the_byte_bound_overflows_before_evicting") {
  dispatch::dispatch_config dc;
  dc.session_limits.queue_max_frames = 1000;
  dc.session_limits.queue_max_bytes = 16u << 10;
  dc.session_limits.resume_max_frames = 1000;
  dc.session_limits.resume_max_bytes = 64u << 10;
  dispatch_env env{dc};
  guild_seed{guild_id, owner}.add_member(alice).add_channel(channel_id).save(*env.storage);
  auto slow = open_probe(env.svc, session_for(alice, {guild_id}));
  REQUIRE(eventually([&] { return slow->buffer().last_seq() >= 2; }));
  publish_messages(env, 12, 2000);  // ~24 KiB uncollected > 16 KiB queue bound
  REQUIRE(eventually([&] { return slow->buffer().last_seq() == 14; }));
  CHECK(slow->sink().overflows() == 1);
  CHECK(slow->buffer().first_held_seq() == 1);
  CHECK(slow->buffer().held_bytes() <= dc.session_limits.resume_max_bytes);
}

}  // namespace herald::dispatch_test
