// SPDX-License-Identifier: Apache-2.0
// The guild's side of the event tail (actors/guild/event_tail.hpp): a row holds one guild batch's
// events and decodes back to each event's filter facts and tail, at its own order, with the
// replaying incarnation's channel slot; a row straddling a relay's cursor gives only the events
// after it; rows of the previous release (one event each) still decode; bytes that do not decode
// are refused; rows read after a cursor cover it only when their chain of predecessors reaches
// back to the cursor without a hole.
#include "actors/guild/event_tail.hpp"

#include <catch2/catch.hpp>

#include <caf/make_counted.hpp>

using namespace herald;
using namespace std::string_literals;
using guild::decode_tail_row;
using guild::tail_covers;
using guild::tail_kind;
using guild::tail_row_writer;
using relay::stream_position;

namespace {

constexpr uint64_t gid = 7;
constexpr uint64_t channel = 555;
constexpr stream_position from_start{};

store::tail_event stored(uint64_t epoch, uint64_t order, stream_position prev,
                         std::string bytes = {}) {
  return store::tail_event{epoch, order, prev.epoch, prev.order, 0, std::move(bytes)};
}

caf::intrusive_ptr<relay::dispatch_event> sample_event() {
  auto ev = caf::make_counted<relay::dispatch_event>();
  ev->guild_id = gid;
  ev->guild_order = 12;
  ev->epoch = 3;
  ev->channel_slot = 4;
  ev->required_intents = session::guild_messages_intent;
  ev->content_gated = true;
  ev->author_id = 42;
  ev->mentioned_user_ids = {5, 9};
  ev->full_tail = R"(,"t":"MESSAGE_CREATE","d":{"content":"hi"}})";
  ev->content_begin = 37;  // the string literal "hi", quotes included
  ev->content_end = 41;
  return ev;
}

uint32_t slot_9(uint64_t id) {
  return id == channel ? 9u : relay::no_channel_slot;
}

/// For frames: no message is ever looked up.
caf::intrusive_ptr<relay::dispatch_event> no_message(uint64_t, bool) {
  FAIL("a frame must not look up a message");
  return nullptr;
}

/// Rebuilds messages as sample events (message 0: deleted) and records what was asked.
struct message_rows {
  std::vector<std::pair<uint64_t, bool>> asked;

  guild::message_rebuild rebuild() {
    return [this](uint64_t id, bool update) -> caf::intrusive_ptr<relay::dispatch_event> {
      asked.emplace_back(id, update);
      return id == 0 ? nullptr : sample_event();
    };
  }
};

void check_sample_facts(const relay::dispatch_event& ev) {
  const auto original = sample_event();
  CHECK(ev.guild_id == gid);
  CHECK(ev.channel_slot == 9);  // the slot of the replaying incarnation, not the stored 4
  CHECK(ev.required_intents == original->required_intents);
  CHECK(ev.content_gated);
  CHECK(ev.author_id == 42);
  CHECK(ev.mentioned_user_ids == std::vector<uint64_t>{5, 9});
  CHECK(ev.full_tail.view() == original->full_tail.view());
  CHECK(ev.content_begin == 37);
  CHECK(ev.content_end == 41);
  CHECK(ev.redacted().view() == R"(,"t":"MESSAGE_CREATE","d":{"content":""}})");
}

std::vector<stream_position> positions(const std::vector<relay::dispatch_event_ptr>& events) {
  std::vector<stream_position> out;
  for (const auto& ev : events) {
    out.push_back(ev->position());
  }
  return out;
}

/// A batch of four events at orders 12, 13, 15 (14 was ephemeral) and 16 under epoch 3: a frame
/// of `channel`, a MESSAGE_UPDATE of message 4242, a guild-wide frame, a MESSAGE_CREATE of
/// message `last_message`.
store::tail_event batch_row(uint64_t last_message = 77) {
  auto ev = sample_event();
  tail_row_writer w;
  w.add_frame(12, *ev, channel);
  w.add_message(13, tail_kind::message_update, 4242);
  w.add_frame(15, *ev, 0);
  w.add_message(16, tail_kind::message_create, last_message);
  CHECK(w.events() == 4);
  return stored(3, 16, {3, 11}, w.take());
}

}  // namespace

TEST_CASE("a_row_holds_a_batchs_events_each_at_its_own_order_with_the_replaying_slots") {
  message_rows messages;
  auto decoded = decode_tail_row(batch_row(), from_start, gid, slot_9, messages.rebuild());
  REQUIRE(decoded);
  const auto& events = *decoded;
  REQUIRE(events.size() == 4);
  CHECK(positions(events) ==
        std::vector<stream_position>{{3, 12}, {3, 13}, {3, 15}, {3, 16}});  // the row's epoch
  check_sample_facts(*events[0]);
  CHECK(events[2]->channel_slot == relay::no_channel_slot);  // a guild-wide event keeps none
  CHECK(events[2]->full_tail.view() == events[0]->full_tail.view());
  CHECK(messages.asked == std::vector<std::pair<uint64_t, bool>>{{4242, true}, {77, false}});

  SECTION("a row straddling the cursor gives only the events after it, rebuilding no other") {
    message_rows later;
    auto after_13 = decode_tail_row(batch_row(), {3, 13}, gid, slot_9, later.rebuild());
    REQUIRE(after_13);
    CHECK(positions(*after_13) == std::vector<stream_position>{{3, 15}, {3, 16}});
    CHECK(later.asked == std::vector<std::pair<uint64_t, bool>>{{77, false}});
    // Order 14 was never stored: a cursor there is before 15 all the same.
    CHECK(positions(*decode_tail_row(batch_row(), {3, 14}, gid, slot_9, later.rebuild())) ==
          std::vector<stream_position>{{3, 15}, {3, 16}});
    auto all_had = decode_tail_row(batch_row(), {3, 16}, gid, slot_9, later.rebuild());
    REQUIRE(all_had);
    CHECK(all_had->empty());
    // A cursor of an earlier epoch is before every event of the row, whatever its order.
    CHECK(decode_tail_row(batch_row(), {2, 20}, gid, slot_9, later.rebuild())->size() == 4);
  }
  SECTION("events of a deleted channel or of a deleted message are left out, not the others") {
    message_rows deleted;
    auto left = decode_tail_row(
        batch_row(0), from_start, gid, [](uint64_t) { return relay::no_channel_slot; },
        deleted.rebuild());
    REQUIRE(left);
    // The channel frame (12) and the deleted message (16) go; the guild-wide frame stays, and
    // the update's rebuilt event has slot 4 (the rebuild decides its channel).
    CHECK(positions(*left) == std::vector<stream_position>{{3, 13}, {3, 15}});
  }
}

TEST_CASE("a_row_of_the_previous_release_holding_one_event_still_decodes") {
  // Version 1 as the previous release wrote it: version, kind, then the event's fields; the
  // event is at the row's own position.
  const std::string frame_v1 =
      "\x01\x00"s                            // version 1, a frame
      "\x2b\x02\x00\x00\x00\x00\x00\x00"s    // channel 555
      "\x00\x02\x00\x00"s                    // intents: 1 << 9
      "\x01"s                                // content gated
      "\x2a\x00\x00\x00\x00\x00\x00\x00"s    // author 42
      "\x25\x00\x00\x00\x29\x00\x00\x00"s    // content span 37..41
      "\x02\x00\x00\x00"s                    // two mentions
      "\x05\x00\x00\x00\x00\x00\x00\x00"s    // 5
      "\x09\x00\x00\x00\x00\x00\x00\x00"s +  // 9
      R"(,"t":"MESSAGE_CREATE","d":{"content":"hi"}})";
  auto frame =
      decode_tail_row(stored(3, 12, {3, 11}, frame_v1), from_start, gid, slot_9, no_message);
  REQUIRE(frame);
  REQUIRE(frame->size() == 1);
  CHECK(frame->front()->position() == stream_position{3, 12});
  check_sample_facts(*frame->front());
  CHECK(decode_tail_row(stored(3, 12, {3, 11}, frame_v1), {3, 12}, gid, slot_9, no_message)
            ->empty());  // at the cursor: the relay had it

  const std::string message_v1 =
      "\x01\x02"s                           // version 1, an update
      "\x92\x10\x00\x00\x00\x00\x00\x00"s;  // message 4242
  message_rows messages;
  auto update = decode_tail_row(stored(5, 20, {5, 19}, message_v1), from_start, gid, slot_9,
                                messages.rebuild());
  REQUIRE(update);
  REQUIRE(update->size() == 1);
  CHECK(update->front()->position() == stream_position{5, 20});  // stored, not the rebuilt one
  CHECK(messages.asked == std::vector<std::pair<uint64_t, bool>>{{4242, true}});
  auto cut = message_v1;
  cut.pop_back();
  CHECK_FALSE(
      decode_tail_row(stored(5, 20, {5, 19}, cut), from_start, gid, slot_9, messages.rebuild()));
}

TEST_CASE("bytes_that_are_not_a_whole_row_of_a_known_version_do_not_decode") {
  const auto good = batch_row();
  message_rows messages;
  auto decodes = [&](const store::tail_event& row) {
    return decode_tail_row(row, from_start, gid, slot_9, messages.rebuild()).has_value();
  };
  REQUIRE(decodes(good));
  for (size_t size : {size_t{0}, size_t{1}, size_t{4}, size_t{20}, good.event_.size() - 1}) {
    auto cut = good;
    cut.event_.resize(size);
    INFO("cut to " << size << " bytes");
    CHECK_FALSE(decodes(cut));
  }
  auto other = good;
  other.event_[0] = static_cast<char>(guild::tail_event_version + 1);
  CHECK_FALSE(decodes(other));
  auto trailing = good;
  trailing.event_ += "x";
  CHECK_FALSE(decodes(trailing));
  CHECK_FALSE(decodes(stored(3, 15, {3, 11}, good.event_)));  // ends before the row's position
  CHECK_FALSE(decodes(stored(3, 16, {3, 11}, tail_row_writer{}.take())));  // no event

  tail_row_writer backwards;
  backwards.add_message(13, tail_kind::message_create, 1);
  backwards.add_message(12, tail_kind::message_create, 2);
  CHECK_FALSE(decodes(stored(3, 12, {3, 11}, backwards.take())));

  auto bad_span = sample_event();
  bad_span->content_end = 400;
  tail_row_writer spans;
  spans.add_frame(12, *bad_span, channel);
  CHECK_FALSE(decodes(stored(3, 12, {3, 11}, spans.take())));
}

TEST_CASE("rows_cover_a_cursor_only_when_their_predecessors_reach_back_to_it_without_a_hole") {
  const stream_position cursor{2, 10};
  CHECK(tail_covers({}, cursor));  // nothing stored after the cursor
  // 11 follows 10 directly; 13 follows 11 (12 was ephemeral, never stored).
  CHECK(tail_covers({stored(2, 11, {2, 10}), stored(2, 13, {2, 11})}, cursor));
  // The first stored event after the cursor follows one before it (ephemerals in between).
  CHECK(tail_covers({stored(2, 14, {2, 9})}, cursor));
  // A later epoch reusing order 10 after the cursor's ephemeral (2, 10): it follows (2, 8).
  CHECK(tail_covers({stored(3, 10, {2, 8})}, cursor));
  // The event after the cursor was overwritten: the oldest row follows one the reader lacks.
  CHECK_FALSE(tail_covers({stored(2, 12, {2, 11}), stored(2, 13, {2, 12})}, cursor));
  // A hole inside the run (a slot overwritten out of order, e.g. the tail size changed).
  CHECK_FALSE(tail_covers({stored(2, 11, {2, 10}), stored(2, 13, {2, 12})}, cursor));
  // Events committed before the tail existed: their predecessor is unknown.
  CHECK_FALSE(tail_covers({stored(2, 11, relay::unknown_position)}, cursor));
}

TEST_CASE("batch_rows_straddling_the_cursor_cover_it_when_the_first_one_began_at_or_before_it") {
  const stream_position cursor{2, 10};
  // A batch 8..12 (after (2, 7)) holds the cursor's event and what follows; the next batch
  // 13..20 follows it.
  CHECK(tail_covers({stored(2, 12, {2, 7}), stored(2, 20, {2, 12})}, cursor));
  // The cursor is the straddling batch's predecessor exactly.
  CHECK(tail_covers({stored(2, 12, {2, 10})}, cursor));
  // The batch before 11..12 was overwritten: (2, 11) follows a row the reader lacks.
  CHECK_FALSE(tail_covers({stored(2, 12, {2, 11}), stored(2, 20, {2, 12})}, cursor));
  // A batch row missing between two others (its slot taken by a newer lap).
  CHECK_FALSE(tail_covers({stored(2, 12, {2, 7}), stored(2, 30, {2, 20})}, cursor));
}
