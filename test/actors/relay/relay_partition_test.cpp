// SPDX-License-Identifier: Apache-2.0
// A relay partition actor (actors/relay/relay_partition.hpp) under CAF's deterministic test
// coordinator: what it does with positioned events around a view_reset's cursor. A guild that
// replays its event tail to a re-bound relay sends the replay as one batch, sometimes of a
// single event (the one post in flight when the old owner died): the partition must deliver it
// exactly when it is after the cursor, and drop only what it already had.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/make_counted.hpp>

#include "actors/outbound/session_output.hpp"
#include "actors/relay/relay_messages.hpp"
#include "actors/relay/relay_partition.hpp"
#include "test/actors/outbound/outbound_test_support.hpp"
#include "test/support/caf_dsl.hpp"

using namespace herald;
using relay::stream_position;

namespace {

session::outbound_limits limits;
constexpr uint64_t guild = uint64_t{7} << 22;
constexpr uint64_t user = 100;
constexpr session::intents messages =
    session::guild_messages_intent | session::message_content_intent | session::guilds_intent;

relay::dispatch_event_ptr post(uint64_t epoch, uint64_t order) {
  auto ev = caf::make_counted<relay::dispatch_event>();
  ev->guild_id = guild;
  ev->guild_order = order;
  ev->epoch = epoch;
  ev->channel_slot = 0;
  ev->required_intents = session::guild_messages_intent;
  ev->full_tail = R"(,"t":"MESSAGE_CREATE","d":{"n":)" + std::to_string(order) + "}}";
  return ev;
}

relay::dispatch_batch_ptr batch_of(std::vector<relay::dispatch_event_ptr> events) {
  auto b = caf::make_counted<relay::dispatch_batch>();
  b->events = std::move(events);
  return b;
}

// The order numbers of the MESSAGE_CREATE frames written to `out` so far, in order.
std::string delivered(session::session_output& out) {
  const auto text = session::test::collect_text(out.buffer());
  std::string orders;
  for (auto at = text.find(R"("n":)"); at != std::string::npos; at = text.find(R"("n":)", at)) {
    at += 4;
    orders += text.substr(at, text.find('}', at) - at) + " ";
  }
  return orders;
}

struct partition_fixture : testing::stepped_fixture {
  caf::actor partition = relay::spawn_relay_partition(sys, guild, caf::actor{}, 64, 1 << 20);
  caf::intrusive_ptr<session::session_output> session =
      caf::make_counted<session::session_output>(1, user, messages, &limits);

  ~partition_fixture() override {
    self->send_exit(partition, caf::exit_reason::kill);
    sched.run();
  }

  // The guild's view_reset at `at` (one class seeing slot 0, `user` in it) then the session.
  void reset_and_subscribe(stream_position at, std::optional<stream_position> replay_from) {
    auto view = caf::make_counted<relay::view_snapshot>(1, 1);
    (view->allow)(0, 0);  // parenthesised: the test DSL defines an `allow` macro
    auto classes = std::make_shared<std::unordered_map<uint64_t, uint32_t>>();
    (*classes)[user] = 0;
    self->send(partition,
               relay::view_reset{relay::view_snapshot_ptr{view}, classes, at, replay_from});
    self->send(partition, relay::add_subscriber{session, 0, std::string{}});
    sched.run();
  }

  stream_position cursor() {
    self->send(partition, relay::cursor_atom::value);
    sched.run();
    stream_position c;
    self->receive(
        [&](uint64_t epoch, uint64_t order) {
          c = {epoch, order};
        },
        caf::after(std::chrono::seconds{0}) >> [] {});
    return c;
  }
};

}  // namespace

TEST_CASE("a_replay_of_one_event_after_the_cursor_is_delivered") {
  partition_fixture f;
  f.reset_and_subscribe({1, 5}, stream_position{1, 5});
  f.self->send(f.partition, batch_of({post(2, 6)}));
  f.sched.run();
  CHECK(delivered(*f.session) == "6 ");
  CHECK(f.cursor() == stream_position{2, 6});
}

TEST_CASE("a_batch_overlapping_the_cursor_delivers_only_what_follows_it_once") {
  partition_fixture f;
  f.reset_and_subscribe({1, 0}, std::nullopt);
  f.self->send(f.partition, batch_of({post(1, 1), post(1, 2)}));
  f.self->send(f.partition, post(1, 3));
  // The new owner's replay repeats 2 and 3, then brings 4; a lone repeat is dropped too.
  f.self->send(f.partition, batch_of({post(1, 2), post(1, 3), post(2, 4)}));
  f.self->send(f.partition, batch_of({post(2, 4)}));
  f.self->send(f.partition, post(2, 5));
  f.sched.run();
  CHECK(delivered(*f.session) == "1 2 3 4 5 ");
  CHECK(f.cursor() == stream_position{2, 5});
}
