// SPDX-License-Identifier: Apache-2.0
#include "actors/relay/partition_core.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <caf/make_counted.hpp>

#include "test/actors/outbound/outbound_test_support.hpp"

using namespace herald;
using relay::dispatch_event;
using relay::partition_core;
using relay::view_snapshot;
using session::session_output;

namespace {

session::outbound_limits limits;

struct fixture {
  // Two classes over two channel slots: class 0 sees slot 0 only, class 1 both.
  relay::view_snapshot_ptr view = [] {
    auto v = caf::make_counted<view_snapshot>(2, 2);
    v->allow(0, 0);
    v->allow(1, 0);
    v->allow(1, 1);
    return relay::view_snapshot_ptr{v};
  }();
  partition_core core{view};

  caf::intrusive_ptr<session_output> join(uint64_t session, uint64_t user, uint32_t cls,
                                          session::intents granted) {
    auto out = caf::make_counted<session_output>(session, user, granted, &limits);
    REQUIRE(core.add(out, cls, ""));
    return out;
  }
};

std::string all_frames(session_output& out) {
  return session::test::collect_text(out.buffer());
}

caf::intrusive_ptr<dispatch_event> message_in(uint32_t slot, uint64_t author) {
  auto ev = caf::make_counted<dispatch_event>();
  ev->channel_slot = slot;
  ev->required_intents = session::guild_messages_intent;
  ev->content_gated = true;
  ev->author_id = author;
  ev->full_tail = R"(,"t":"MESSAGE_CREATE","d":{"content":"secret"}})";
  ev->redacted_tail = R"(,"t":"MESSAGE_CREATE","d":{"content":""}})";
  return ev;
}

constexpr session::intents messages_and_content =
    session::guild_messages_intent | session::message_content_intent | session::guilds_intent;

}  // namespace

TEST_CASE("a_session_never_receives_events_of_a_channel_its_class_cannot_view") {
  fixture f;
  auto low = f.join(1, 100, 0, messages_and_content);
  auto high = f.join(2, 200, 1, messages_and_content);
  CHECK(f.core.deliver(*message_in(1, 999)) == 1);
  CHECK(all_frames(*low).empty());
  CHECK(all_frames(*high) == R"({"op":0,"s":1,"t":"MESSAGE_CREATE","d":{"content":"secret"}})");
}

TEST_CASE("content_is_blanked_unless_the_session_has_message_content_wrote_it_or_is_mentioned") {
  fixture f;
  auto without = f.join(1, 100, 1, session::guild_messages_intent);
  auto author = f.join(2, 200, 1, session::guild_messages_intent);
  auto mentioned = f.join(3, 300, 1, session::guild_messages_intent);
  auto granted = f.join(4, 400, 1, messages_and_content);
  auto ev = message_in(0, 200);
  ev->mentioned_user_ids = {300};
  CHECK(f.core.deliver(*ev) == 4);
  CHECK(all_frames(*without).find(R"("content":"")") != std::string::npos);
  CHECK(all_frames(*author).find("secret") != std::string::npos);
  CHECK(all_frames(*mentioned).find("secret") != std::string::npos);
  CHECK(all_frames(*granted).find("secret") != std::string::npos);
}

TEST_CASE("events_outside_a_sessions_intents_are_not_sent") {
  fixture f;
  auto guild_only = f.join(1, 100, 1, session::guilds_intent);
  CHECK(f.core.deliver(*message_in(0, 5)) == 0);
  CHECK(all_frames(*guild_only).empty());
}

TEST_CASE("removed_sessions_receive_nothing_and_the_rest_keep_receiving") {
  fixture f;
  auto a = f.join(1, 100, 1, messages_and_content);
  auto b = f.join(2, 200, 1, messages_and_content);
  auto c = f.join(3, 200, 1, messages_and_content);
  CHECK(f.core.remove(1));
  CHECK_FALSE(f.core.remove(1));
  CHECK(f.core.deliver(*message_in(0, 5)) == 2);
  CHECK(all_frames(*a).empty());
  CHECK(f.core.remove_user(200) == 2);
  CHECK(f.core.size() == 0);
}

TEST_CASE("a_view_change_writes_channel_create_to_gainers_and_channel_delete_to_losers") {
  fixture f;
  auto stays_low = f.join(1, 100, 0, messages_and_content);
  auto promoted = f.join(2, 200, 0, messages_and_content);
  auto high = f.join(3, 300, 1, messages_and_content);
  // New snapshot: class 1 loses slot 1 except via a new class 2; user 200 moves to class 2.
  auto v = caf::make_counted<view_snapshot>(3, 2);
  v->allow(0, 0);
  v->allow(1, 0);
  v->allow(2, 0);
  v->allow(2, 1);
  auto update = caf::make_counted<relay::view_update>();
  update->view = relay::view_snapshot_ptr{v};
  update->class_changes = {{200, 2}};
  update->changed_slots = {1};
  update->create_tails = {R"(,"t":"CHANNEL_CREATE","d":{}})"};
  update->delete_tails = {R"(,"t":"CHANNEL_DELETE","d":{}})"};
  CHECK(f.core.apply(*update) == 2);
  CHECK(all_frames(*stays_low).empty());
  CHECK(all_frames(*promoted) == R"({"op":0,"s":1,"t":"CHANNEL_CREATE","d":{}})");
  CHECK(all_frames(*high) == R"({"op":0,"s":1,"t":"CHANNEL_DELETE","d":{}})");
  // The new view is in force for later events.
  CHECK(f.core.deliver(*message_in(1, 5)) == 1);
}

TEST_CASE("a_closed_session_receives_no_event_already_in_flight_to_its_partition_bug_a") {
  fixture f;
  auto open = f.join(1, 100, 1, messages_and_content);
  auto closed = f.join(2, 200, 1, messages_and_content);
  closed->close();  // the session ended while the event was on its way
  CHECK(f.core.deliver(*message_in(0, 5)) == 1);
  CHECK(closed->buffer().last_seq() == 0);
  CHECK(f.core.size() == 1);  // dropped, not visited again
  std::vector<relay::dispatch_event_ptr> batch{message_in(0, 5), message_in(0, 6)};
  auto late = f.join(3, 300, 1, messages_and_content);
  late->close();
  std::vector<size_t> delivered;
  f.core.deliver(batch, delivered);
  CHECK(delivered == std::vector<size_t>{1, 1});
  CHECK(late->buffer().last_seq() == 0);
  CHECK(f.core.size() == 1);
  CHECK(open->buffer().last_seq() == 3);
}

TEST_CASE("a_batch_reaches_each_session_in_guild_order_filtered_per_event_counted_per_event") {
  fixture f;
  auto low = f.join(1, 100, 0, messages_and_content);   // sees slot 0 only
  auto high = f.join(2, 200, 1, messages_and_content);  // sees both
  auto ev1 = message_in(0, 5);
  ev1->full_tail = R"(,"t":"MESSAGE_CREATE","d":{"n":1}})";
  auto ev2 = message_in(1, 5);
  ev2->full_tail = R"(,"t":"MESSAGE_CREATE","d":{"n":2}})";
  auto ev3 = message_in(0, 5);
  ev3->full_tail = R"(,"t":"MESSAGE_CREATE","d":{"n":3}})";
  std::vector<relay::dispatch_event_ptr> batch{ev1, ev2, ev3};
  std::vector<size_t> delivered;
  f.core.deliver(batch, delivered);
  CHECK(delivered == std::vector<size_t>{2, 1, 2});
  CHECK(all_frames(*low) == R"({"op":0,"s":1,"t":"MESSAGE_CREATE","d":{"n":1}})"
                            R"({"op":0,"s":2,"t":"MESSAGE_CREATE","d":{"n":3}})");
  CHECK(all_frames(*high) == R"({"op":0,"s":1,"t":"MESSAGE_CREATE","d":{"n":1}})"
                             R"({"op":0,"s":2,"t":"MESSAGE_CREATE","d":{"n":2}})"
                             R"({"op":0,"s":3,"t":"MESSAGE_CREATE","d":{"n":3}})");
}

TEST_CASE("sessions_reference_the_events_tails_and_give_them_back_when_their_frames_go") {
  fixture f;
  auto low = f.join(1, 100, 0, messages_and_content);              // slot 0, full tail
  auto high = f.join(2, 200, 1, messages_and_content);             // both, full tail
  auto gated = f.join(3, 300, 1, session::guild_messages_intent);  // redacted tail
  auto closed = f.join(4, 400, 1, messages_and_content);
  closed->close();
  auto ev = message_in(0, 5);  // content-gated, slot 0
  auto other = message_in(1, 5);
  std::vector<relay::dispatch_event_ptr> batch{ev, other};
  std::vector<size_t> delivered;
  f.core.deliver(batch, delivered);
  CHECK(delivered == std::vector<size_t>{3, 2});
  // One reference per frame holding it, plus the event's own; the bulk
  // references the partition took for the closed and filtered-out sessions
  // were given back.
  CHECK(ev->full_tail.use_count() == 1 + 2);
  CHECK(ev->redacted_tail.use_count() == 1 + 1);
  CHECK(other->full_tail.use_count() == 1 + 1);
  CHECK(other->redacted_tail.use_count() == 1 + 1);
  // Single-event delivery counts the same way.
  CHECK(f.core.deliver(*ev) == 3);
  CHECK(ev->full_tail.use_count() == 1 + 4);
  REQUIRE(f.core.remove(1));
  low.reset();  // its buffer (and the frames in it) go away
  CHECK(ev->full_tail.use_count() == 1 + 2);
  CHECK(all_frames(*gated) == R"({"op":0,"s":1,"t":"MESSAGE_CREATE","d":{"content":""}})"
                              R"({"op":0,"s":2,"t":"MESSAGE_CREATE","d":{"content":""}})"
                              R"({"op":0,"s":3,"t":"MESSAGE_CREATE","d":{"content":""}})");
}

namespace {

// A message event as the guild makes it: the full tail and where its content sits; the
// redacted tail is left for dispatch_event::redacted to make.
caf::intrusive_ptr<dispatch_event> message_with_span(uint64_t author) {
  auto ev = caf::make_counted<dispatch_event>();
  ev->channel_slot = 0;
  ev->required_intents = session::guild_messages_intent;
  ev->content_gated = true;
  ev->author_id = author;
  const std::string tail = R"(,"t":"MESSAGE_CREATE","d":{"content":"se\"cret","tts":false}})";
  ev->full_tail = tail;
  ev->content_begin = static_cast<uint32_t>(tail.find(R"("se)"));
  ev->content_end = static_cast<uint32_t>(tail.find(R"(,"tts")"));
  return ev;
}

}  // namespace

TEST_CASE("the_redacted_tail_is_made_only_when_a_recipient_lacks_message_content") {
  fixture f;
  auto granted = f.join(1, 100, 1, messages_and_content);
  auto author = f.join(2, 200, 1, session::guild_messages_intent);
  auto ev = message_with_span(200);
  CHECK(f.core.deliver(*ev) == 2);
  CHECK(ev->redacted_tail.empty());  // nobody needed it: never encoded
  auto without = f.join(3, 300, 1, session::guild_messages_intent);
  auto later = message_with_span(200);
  std::vector<relay::dispatch_event_ptr> batch{later, message_with_span(200)};
  std::vector<size_t> delivered;
  f.core.deliver(batch, delivered);
  CHECK(delivered == std::vector<size_t>{3, 3});
  REQUIRE_FALSE(later->redacted_tail.empty());
  CHECK(later->redacted_tail.view() == R"(,"t":"MESSAGE_CREATE","d":{"content":"","tts":false}})");
  CHECK(later->redacted_tail.use_count() == 1 + 1);  // the event's and one frame's
  CHECK(all_frames(*without) ==
        R"({"op":0,"s":1,"t":"MESSAGE_CREATE","d":{"content":"","tts":false}})"
        R"({"op":0,"s":2,"t":"MESSAGE_CREATE","d":{"content":"","tts":false}})");
  CHECK(all_frames(*author).find(R"("content":"se\"cret")") != std::string::npos);
}

TEST_CASE("sessions_dropped_because_their_user_left_get_the_departed_tail_when_they_have_guilds") {
  fixture f;
  const std::string gone = R"(,"t":"GUILD_DELETE","d":{"id":"7"}})";
  f.core = partition_core{f.view, gone};
  auto kicked = f.join(1, 100, 1, messages_and_content);
  auto kicked_without_guilds = f.join(2, 100, 1, session::guild_messages_intent);
  auto absent_at_reset = f.join(3, 300, 1, messages_and_content);
  auto stays = f.join(4, 400, 1, messages_and_content);
  CHECK(f.core.remove_user(100) == 2);
  CHECK(f.core.reset(f.view, {{400, 1}}) == 1);
  CHECK(f.core.deliver(*message_in(0, 999)) == 1);  // only the member who stayed
  CHECK(all_frames(*kicked) == R"({"op":0,"s":1,"t":"GUILD_DELETE","d":{"id":"7"}})");
  CHECK(all_frames(*kicked_without_guilds).empty());
  CHECK(all_frames(*absent_at_reset) == R"({"op":0,"s":1,"t":"GUILD_DELETE","d":{"id":"7"}})");
  CHECK(all_frames(*stays) == R"({"op":0,"s":1,"t":"MESSAGE_CREATE","d":{"content":"secret"}})");
  // A plain remove (the session unsubscribed or ended) writes nothing.
  auto leaves = f.join(5, 500, 1, messages_and_content);
  CHECK(f.core.remove(5));
  CHECK(all_frames(*leaves).empty());
}

TEST_CASE("a_partition_takes_each_position_once_and_drops_a_replay_of_what_it_had") {
  fixture f;
  auto s = f.join(1, 100, 1, messages_and_content);
  auto at = [](uint64_t epoch, uint64_t order) {
    auto ev = message_in(0, 999);
    ev->epoch = epoch;
    ev->guild_order = order;
    return ev;
  };
  CHECK(f.core.take(*at(1, 5)));
  CHECK(f.core.take(*at(1, 6)));
  CHECK_FALSE(f.core.take(*at(1, 6)));  // a replay overlapping the live stream
  CHECK_FALSE(f.core.take(*at(1, 4)));
  // A later epoch may reuse an order an ephemeral event of the earlier one had.
  CHECK(f.core.take(*at(2, 6)));
  CHECK_FALSE(f.core.take(*at(1, 9)));
  CHECK(f.core.cursor() == relay::stream_position{2, 6});
  CHECK(f.core.take(*message_in(0, 999)));  // no position (epoch 0): always taken
}

TEST_CASE("a_replay_from_after_the_partitions_cursor_resyncs_its_sessions_and_one_it_covers_not") {
  fixture f;
  const std::string unavailable = R"(,"t":"GUILD_DELETE","d":{"id":"7","unavailable":true}})";
  // Empty: the first reset places the cursor where the stream continues.
  CHECK(f.core.sync({1, 3}, std::nullopt, unavailable).empty());
  CHECK(f.core.cursor() == relay::stream_position{1, 3});
  auto a = f.join(1, 100, 1, messages_and_content);
  auto b = f.join(2, 100, 0, session::guild_messages_intent);  // no GUILDS intent
  auto c = f.join(3, 300, 0, messages_and_content);
  auto ev = message_in(0, 999);
  ev->epoch = 1;
  ev->guild_order = 8;
  REQUIRE(f.core.take(*ev));

  SECTION("the replay starts at or before the cursor: nothing changes") {
    CHECK(f.core.sync({2, 12}, relay::stream_position{1, 8}, unavailable).empty());
    CHECK(f.core.sync({2, 12}, relay::stream_position{1, 7}, unavailable).empty());
    CHECK(f.core.sync({2, 12}, std::nullopt, unavailable).empty());  // no replay: no resync
    CHECK(f.core.size() == 3);
    CHECK(f.core.cursor() == relay::stream_position{1, 8});
  }
  SECTION("the replay starts after the cursor: every session resyncs, GUILD_DELETE first") {
    auto users = f.core.sync({2, 12}, relay::stream_position{2, 12}, unavailable);
    CHECK(users == std::vector<uint64_t>{100, 300});
    CHECK(f.core.size() == 0);
    CHECK(f.core.cursor() == relay::stream_position{2, 12});
    const std::string frame =
        R"({"op":0,"s":1,"t":"GUILD_DELETE","d":{"id":"7","unavailable":true}})";
    CHECK(all_frames(*a) == frame);
    CHECK(all_frames(*b).empty());  // GUILD_DELETE belongs to the GUILDS intent
    CHECK(all_frames(*c) == frame);
  }
}
