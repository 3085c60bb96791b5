// SPDX-License-Identifier: Apache-2.0
// The guild's side of the event tail (actors/guild/event_tail.hpp): a stored event decodes back
// to the same filter facts and tail with the replaying incarnation's channel slot; bytes that do
// not decode are refused; rows read after a cursor cover it only when their chain of predecessors
// reaches back to the cursor without a hole.
#include "actors/guild/event_tail.hpp"

#include <catch2/catch.hpp>

#include <caf/make_counted.hpp>

using namespace herald;
using guild::decode_tail_event;
using guild::encode_tail_event;
using guild::tail_covers;
using guild::tail_kind;
using relay::stream_position;

namespace {

constexpr uint64_t gid = 7;
constexpr uint64_t channel = 555;

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

/// For frames: no message is ever looked up.
caf::intrusive_ptr<relay::dispatch_event> no_message(uint64_t, bool) {
  FAIL("a frame must not look up a message");
  return nullptr;
}

}  // namespace

TEST_CASE("a_stored_event_decodes_to_its_facts_with_the_replaying_incarnations_slot") {
  auto sample = sample_event();
  const auto& original = *sample;
  auto row = stored(3, 12, {3, 11}, encode_tail_event(original, channel));
  auto slot_of = [](uint64_t id) { return id == channel ? 9u : relay::no_channel_slot; };
  auto decoded = decode_tail_event(row, gid, slot_of, no_message);
  REQUIRE(decoded);
  REQUIRE(*decoded);
  const auto& ev = **decoded;
  CHECK(ev.guild_id == gid);
  CHECK(ev.position() == stream_position{3, 12});
  CHECK(ev.channel_slot == 9);  // the slot of the replaying incarnation, not the stored 4
  CHECK(ev.required_intents == original.required_intents);
  CHECK(ev.content_gated);
  CHECK(ev.author_id == 42);
  CHECK(ev.mentioned_user_ids == std::vector<uint64_t>{5, 9});
  CHECK(ev.full_tail.view() == original.full_tail.view());
  CHECK(ev.content_begin == 37);
  CHECK(ev.content_end == 41);
  CHECK(ev.redacted().view() == R"(,"t":"MESSAGE_CREATE","d":{"content":""}})");

  SECTION("an event of a deleted channel is nothing to replay") {
    auto gone = decode_tail_event(
        row, gid, [](uint64_t) { return relay::no_channel_slot; }, no_message);
    REQUIRE(gone);
    CHECK_FALSE(*gone);
  }
  SECTION("a guild-wide event keeps no slot") {
    auto wide = stored(3, 12, {3, 11}, encode_tail_event(original, 0));
    auto ev2 = decode_tail_event(wide, gid, slot_of, no_message);
    REQUIRE(ev2);
    CHECK((*ev2)->channel_slot == relay::no_channel_slot);
  }
  SECTION("truncated bytes, a content span past the tail or another version do not decode") {
    auto cut = row;
    cut.event_.resize(20);
    CHECK_FALSE(decode_tail_event(cut, gid, slot_of, no_message));
    auto other = row;
    other.event_[0] = static_cast<char>(guild::tail_event_version + 1);
    CHECK_FALSE(decode_tail_event(other, gid, slot_of, no_message));
    auto bad_span = sample_event();
    bad_span->content_end = 400;
    CHECK_FALSE(decode_tail_event(stored(3, 12, {3, 11}, encode_tail_event(*bad_span, channel)),
                                  gid, slot_of, no_message));
  }
}

TEST_CASE("a_stored_message_event_is_its_id_and_is_rebuilt_from_the_message_row") {
  auto bytes = guild::encode_tail_message(tail_kind::message_update, 4242);
  CHECK(bytes.size() == 10);
  auto row = stored(5, 20, {5, 19}, bytes);
  auto slot_of = [](uint64_t) { return 2u; };
  uint64_t asked = 0;
  bool asked_update = false;
  auto rebuild = [&](uint64_t id, bool update) -> caf::intrusive_ptr<relay::dispatch_event> {
    asked = id;
    asked_update = update;
    return id == 4242 ? sample_event() : nullptr;
  };
  auto ev = decode_tail_event(row, gid, slot_of, rebuild);
  REQUIRE(ev);
  REQUIRE(*ev);
  CHECK(asked == 4242);
  CHECK(asked_update);
  CHECK((*ev)->position() == stream_position{5, 20});  // the stored position, not the rebuilt one

  auto gone = decode_tail_event(
      stored(5, 21, {5, 20}, guild::encode_tail_message(tail_kind::message_create, 7)), gid,
      slot_of, rebuild);
  REQUIRE(gone);
  CHECK_FALSE(*gone);  // deleted since: nothing to replay
  CHECK_FALSE(asked_update);
  auto truncated = row;
  truncated.event_.pop_back();
  CHECK_FALSE(decode_tail_event(truncated, gid, slot_of, rebuild));
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
