// SPDX-License-Identifier: Apache-2.0
// The cross-node relay stream without actors: export_queue batches what queues while a batch is
// unacknowledged; a batch survives CAF's binary serialisation (what BASP does on the wire) and
// decodes back into the guild's local messages in order; a malformed batch delivers nothing.
#include "actors/relay/relay_stream.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/make_counted.hpp>

using namespace herald;
using namespace herald::relay;

namespace {

constexpr uint64_t guild = 77;

caf::intrusive_ptr<dispatch_event> event_at(uint64_t order, std::string content) {
  auto ev = caf::make_counted<dispatch_event>();
  ev->guild_id = guild;
  ev->guild_order = order;
  ev->channel_slot = 1;
  ev->required_intents = session::guild_messages_intent;
  ev->content_gated = true;
  ev->author_id = 5;
  ev->mentioned_user_ids = {6, 9};
  std::string head = R"(,"t":"MESSAGE_CREATE","d":{"content":)";
  std::string literal = "\"" + content + "\"";
  ev->full_tail = session::shared_tail{head + literal + "}}"};
  ev->content_begin = static_cast<uint32_t>(head.size());
  ev->content_end = static_cast<uint32_t>(head.size() + literal.size());
  return ev;
}

view_snapshot_ptr two_classes() {
  auto v = caf::make_counted<view_snapshot>(2, 70);  // two words per class
  v->allow(0, 0);
  v->allow(1, 0);
  v->allow(1, 69);
  return view_snapshot_ptr{v};
}

relay_wire::batch through_the_wire(const relay_wire::batch& b) {
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  auto copy = b;
  REQUIRE(!sink(copy));
  relay_wire::batch out;
  caf::binary_deserializer source{nullptr, buf};
  REQUIRE(!source(out));
  return out;
}

/// What a decoded batch delivered, as one line per item in order.
struct recorder {
  std::vector<std::string> items;
  std::vector<dispatch_event_ptr> events;
  view_update_ptr update;
  std::optional<view_reset> reset;

  decoded_sink sink() {
    decoded_sink s;
    s.on_events = [this](std::vector<dispatch_event_ptr>& run) {
      items.push_back("events " + std::to_string(run.size()));
      events.insert(events.end(), run.begin(), run.end());
    };
    s.on_view_update = [this](view_update_ptr u) {
      items.push_back("view_update");
      update = std::move(u);
    };
    s.on_view_reset = [this](view_reset r) {
      items.push_back("view_reset");
      reset = std::move(r);
    };
    s.on_subscriber = [this](relay_wire::subscriber& sub) {
      items.push_back("subscriber " + std::to_string(sub.session_id) + " " +
                      std::to_string(sub.view_class) + " " + sub.guild_create_tail);
    };
    s.on_notice = [this](const relay_wire::notice& n) {
      items.push_back((n.joined ? "joined " : "removed ") + std::to_string(n.user_id));
    };
    return s;
  }
};

}  // namespace

TEST_CASE("items_queued_while_a_batch_is_unacknowledged_leave_together_in_the_next_batch") {
  export_queue q{guild};
  CHECK(!q.next());  // nothing queued
  q.add(*event_at(1, "a"));
  auto first = q.next();
  REQUIRE(first);
  CHECK(first->seq == 1);
  CHECK(first->guild_id == guild);
  CHECK(first->events.size() == 1);
  CHECK(q.in_flight());
  // Three events and a removal queue while batch 1 is in flight: nothing goes.
  q.add(*event_at(2, "b"));
  q.add(*event_at(3, "c"));
  q.add(relay_wire::notice{8, false});
  q.add(*event_at(4, "d"));
  CHECK(!q.next());
  CHECK(q.queued_items() == 4);
  CHECK(!q.ack(2));  // not the batch in flight
  CHECK(q.ack(1));
  CHECK(!q.ack(1));  // twice
  auto second = q.next();
  REQUIRE(second);
  CHECK(second->seq == 2);
  CHECK(event_count(*second) == 3);
  CHECK(second->kinds.size() == 4);
  CHECK(q.queued_items() == 0);
  CHECK(!q.next());  // in flight again
}

TEST_CASE("a_batch_survives_serialisation_and_decodes_into_the_guilds_messages_in_order") {
  export_queue q{guild};
  auto classes = std::make_shared<std::unordered_map<uint64_t, uint32_t>>();
  (*classes)[5] = 1;
  (*classes)[6] = 0;
  q.add(view_reset{two_classes(), classes, {}, std::nullopt});
  q.add(relay_wire::subscriber{42, 1, R"(,"t":"GUILD_CREATE","d":{}})", 0, ""});
  q.add(*event_at(1, "hello"));
  q.add(*event_at(2, "world"));
  auto update = caf::make_counted<view_update>();
  update->view = two_classes();
  update->class_changes = {{6, 1}};
  update->changed_slots = {69};
  update->create_tails = {"create"};
  update->delete_tails = {"delete"};
  q.add(*update);
  q.add(*event_at(3, "again"));
  q.add(relay_wire::notice{6, false});
  q.add(relay_wire::notice{12, true});
  auto sent = q.next();
  REQUIRE(sent);
  // The content crosses once: the redacted tail is made on the receiving side.
  for (const auto& sent_event : sent->events) {
    CHECK(sent_event.redacted_tail.empty());
  }
  auto got = through_the_wire(*sent);
  CHECK(payload_bytes(got) == payload_bytes(*sent));

  recorder r;
  REQUIRE(!decode(got, guild, r.sink()));
  CHECK(r.items ==
        std::vector<std::string>{"view_reset", R"(subscriber 42 1 ,"t":"GUILD_CREATE","d":{}})",
                                 "events 2", "view_update", "events 1", "removed 6", "joined 12"});
  REQUIRE(r.events.size() == 3);
  const auto& e = *r.events[0];
  CHECK(e.guild_id == guild);
  CHECK(e.guild_order == 1);
  CHECK(e.channel_slot == 1);
  CHECK(e.required_intents == session::guild_messages_intent);
  CHECK(e.content_gated);
  CHECK(e.author_id == 5);
  CHECK(e.mentioned_user_ids == std::vector<uint64_t>{6, 9});
  CHECK(e.full_tail.view() == R"(,"t":"MESSAGE_CREATE","d":{"content":"hello"}})");
  CHECK(e.redacted().view() == R"(,"t":"MESSAGE_CREATE","d":{"content":""}})");
  CHECK(r.events[2]->guild_order == 3);
  REQUIRE(r.reset);
  CHECK(r.reset->class_of_user->at(5) == 1);
  CHECK(r.reset->class_of_user->at(6) == 0);
  CHECK(r.reset->view->can_view(1, 69));
  CHECK(!r.reset->view->can_view(0, 69));
  CHECK(r.reset->view->can_view(0, 0));
  REQUIRE(r.update);
  CHECK(r.update->class_changes == std::vector<std::pair<uint64_t, uint32_t>>{{6, 1}});
  CHECK(r.update->changed_slots == std::vector<uint32_t>{69});
  CHECK(r.update->create_tails == std::vector<std::string>{"create"});
  CHECK(r.update->delete_tails == std::vector<std::string>{"delete"});
}

TEST_CASE("a_malformed_batch_delivers_nothing_and_says_why") {
  export_queue q{guild};
  q.add(relay_wire::notice{6, false});
  q.add(*event_at(1, "x"));
  auto good = q.next();
  REQUIRE(good);
  recorder r;

  SECTION("another guild's batch") {
    CHECK(decode(*good, guild + 1, r.sink()));
  }
  SECTION("kinds that do not match the items") {
    good->kinds.push_back(static_cast<uint8_t>(relay_wire::kind::event));
    CHECK(decode(*good, guild, r.sink()));
  }
  SECTION("an unknown kind") {
    good->kinds[0] = 200;
    CHECK(decode(*good, guild, r.sink()));
  }
  SECTION("a content span outside the tail") {
    good->events[0].content_end = 10'000;
    CHECK(decode(*good, guild, r.sink()));
  }
  SECTION("a view whose bits do not fill its rows") {
    good->kinds.push_back(static_cast<uint8_t>(relay_wire::kind::view_reset));
    good->view_resets.push_back(relay_wire::view_reset{relay_wire::view{2, 2, {1, 2, 3}}, {}, {}});
    CHECK(decode(*good, guild, r.sink()));
  }
  CHECK(r.items.empty());
}

TEST_CASE("an_event_tail_is_sent_from_the_guilds_block_and_encoded_as_a_string") {
  auto ev = event_at(1, "hello");
  export_queue q{guild};
  q.add(*ev);
  auto sent = q.next();
  REQUIRE(sent);
  // The wire item references the guild's tail: no copy before serialisation.
  CHECK(sent->events[0].full_tail.tail.block() == ev->full_tail.block());
  // Its bytes on the wire are a std::string's, so the layout (and the wire name) is unchanged.
  std::vector<char> as_tail;
  std::vector<char> as_string;
  caf::binary_serializer tail_sink{nullptr, as_tail};
  caf::binary_serializer string_sink{nullptr, as_string};
  auto copy = sent->events[0].full_tail;
  std::string text{ev->full_tail.view()};
  REQUIRE(!tail_sink(copy));
  REQUIRE(!string_sink(text));
  CHECK(as_tail == as_string);
  // Read back into a tail block of its own.
  relay_wire::tail_bytes back;
  caf::binary_deserializer source{nullptr, as_tail};
  REQUIRE(!source(back));
  CHECK(back.view() == ev->full_tail.view());
  CHECK(back.tail.block() != ev->full_tail.block());
}

TEST_CASE("a_tail_longer_than_its_input_is_refused_before_it_is_allocated") {
  std::string text(300, 'x');
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  REQUIRE(!sink(text));
  SECTION("cut short") {
    buf.resize(buf.size() - 1);
  }
  SECTION("a length beyond the limit") {
    buf.clear();
    caf::binary_serializer big{nullptr, buf};
    size_t n = relay_wire::max_tail_bytes + 1;
    REQUIRE(!big.begin_sequence(n));
    buf.resize(buf.size() + 64, 'x');
  }
  relay_wire::tail_bytes back;
  caf::binary_deserializer source{nullptr, buf};
  CHECK(source(back));
  CHECK(back.empty());
}
