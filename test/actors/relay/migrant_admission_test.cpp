// SPDX-License-Identifier: Apache-2.0
// A relay partition taking in a session migrated from another node (migrant_admission.hpp,
// recent_events.hpp): the partition ahead of the session's cursor replays what it missed from
// its recent events, behind it lets the session join right before the first later event, and
// when the gap is not held (a fresh feed, or events evicted) resyncs it: GUILD_DELETE
// unavailable, then GUILD_CREATE.
#include "actors/relay/migrant_admission.hpp"
#include "actors/relay/relay_metrics.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <caf/make_counted.hpp>

using namespace herald;
using relay::dispatch_event;
using relay::migrant_outcome;

namespace {

session::outbound_limits limits;

relay::dispatch_event_ptr event_at(uint64_t order) {
  auto ev = caf::make_counted<dispatch_event>();
  ev->guild_order = order;
  ev->full_tail = ",\"t\":\"E\",\"d\":{\"o\":" + std::to_string(order) + "}}";
  return ev;
}

/// The orders of the E frames a session holds, and whether it got GUILD_DELETE / GUILD_CREATE.
struct frames_seen {
  std::vector<uint64_t> orders;
  std::vector<std::string> others;
};

frames_seen frames_of(session::session_output& out) {
  std::vector<session::shared_tail> tails;
  REQUIRE(out.buffer().frames_after(0, tails) == session::resume_status::ok);
  frames_seen seen;
  for (const auto& t : tails) {
    auto v = std::string{t.view()};
    auto at = v.find("\"o\":");
    if (v.find("\"t\":\"E\"") != std::string::npos && at != std::string::npos) {
      seen.orders.push_back(std::stoull(v.substr(at + 4)));
    } else {
      seen.others.push_back(v);
    }
  }
  return seen;
}

struct fixture {
  relay::partition_core core{[] {
    auto v = caf::make_counted<relay::view_snapshot>(1, 1);
    v->allow(0, 0);
    return relay::view_snapshot_ptr{v};
  }()};
  relay::recent_events recent{4, 1 << 20};
  relay::migrant_admission migrants;
  const std::string unavailable = ",\"t\":\"GUILD_DELETE\",\"d\":{\"unavailable\":true}}";

  /// The partition's feed: delivers orders [from, to] and keeps them as recent.
  void feed(uint64_t from, uint64_t to) {
    for (uint64_t o = from; o <= to; ++o) {
      auto ev = event_at(o);
      if (migrants.has_waiting()) {
        migrants.before_event(core, o);
      }
      core.deliver(*ev);
      recent.push(ev);
    }
  }

  /// A session migrated in with `cursor`, answered by the guild's add_subscriber.
  std::pair<caf::intrusive_ptr<session::session_output>, std::optional<migrant_outcome>> migrate_in(
      uint64_t session_id, uint64_t cursor) {
    auto out =
        caf::make_counted<session::session_output>(session_id, 7, session::guilds_intent, &limits);
    migrants.expect(session_id, cursor);
    relay::add_subscriber sub{out, 0, ",\"t\":\"GUILD_CREATE\",\"d\":{}}"};
    return {out, migrants.admit(core, recent, sub, unavailable)};
  }
};

}  // namespace

TEST_CASE("recent_events_keep_the_newest_within_their_bounds_and_know_what_they_cover") {
  relay::recent_events recent{3, 1 << 20};
  CHECK_FALSE(recent.covers(0));  // a fresh feed: where it started is unknown
  for (uint64_t o = 10; o <= 14; ++o) {
    recent.push(event_at(o));
  }
  CHECK(recent.size() == 3);
  CHECK(recent.last_order() == 14);
  CHECK(recent.covers(11));  // 12, 13, 14 are held
  CHECK_FALSE(recent.covers(10));
  CHECK(recent.covers(14));
  CHECK(recent.covers(20));  // behind the cursor: the later events will come
  std::vector<uint64_t> after;
  recent.for_each_after(12, [&](const dispatch_event& e) { after.push_back(e.guild_order); });
  CHECK(after == std::vector<uint64_t>{13, 14});

  relay::recent_events by_bytes{100, 1};  // a byte bound below one event keeps the newest only
  by_bytes.push(event_at(1));
  by_bytes.push(event_at(2));
  CHECK(by_bytes.size() == 1);
  CHECK(by_bytes.covers(1));
  CHECK_FALSE(by_bytes.covers(0));

  recent.reset();  // a view_reset: nothing before it counts
  CHECK(recent.last_order() == 0);
  CHECK_FALSE(recent.covers(14));
  recent.push(event_at(30));
  CHECK(recent.covers(29));
  CHECK_FALSE(recent.covers(28));
}

TEST_CASE(
    "a_migrant_the_partition_is_ahead_of_gets_the_events_after_its_cursor_and_no_guild_create") {
  fixture f;
  f.feed(1, 6);  // recent holds 3..6
  auto [out, outcome] = f.migrate_in(1, 3);
  REQUIRE(outcome);
  CHECK(*outcome == migrant_outcome::replayed);
  f.feed(7, 8);
  auto seen = frames_of(*out);
  CHECK(seen.orders == std::vector<uint64_t>{4, 5, 6, 7, 8});
  CHECK(seen.others.empty());
}

TEST_CASE("a_migrant_at_the_partitions_position_just_joins") {
  fixture f;
  f.feed(1, 5);
  auto [out, outcome] = f.migrate_in(1, 5);
  REQUIRE(outcome);
  CHECK(*outcome == migrant_outcome::current);
  f.feed(6, 6);
  CHECK(frames_of(*out).orders == std::vector<uint64_t>{6});
  CHECK(frames_of(*out).others.empty());
}

TEST_CASE("a_migrant_ahead_of_the_partition_joins_right_before_the_first_event_after_its_cursor") {
  fixture f;
  f.feed(1, 3);
  auto [out, outcome] = f.migrate_in(1, 5);
  REQUIRE(outcome);
  CHECK(*outcome == migrant_outcome::waiting);
  CHECK(f.migrants.has_waiting());
  f.feed(4, 7);  // 4 and 5 it already has
  CHECK_FALSE(f.migrants.has_waiting());
  CHECK(frames_of(*out).orders == std::vector<uint64_t>{6, 7});
  CHECK(frames_of(*out).others.empty());
}

TEST_CASE("a_migrant_whose_gap_is_not_held_is_resynced_and_counted") {
  auto before = relay::resyncs_counter(relay::resync_cause::migration).value();
  SECTION("events evicted") {
    fixture f;
    f.feed(1, 10);  // recent holds 7..10
    auto [out, outcome] = f.migrate_in(1, 4);
    REQUIRE(outcome);
    CHECK(*outcome == migrant_outcome::resynced);
    f.feed(11, 11);
    auto seen = frames_of(*out);
    CHECK(seen.orders == std::vector<uint64_t>{11});
    REQUIRE(seen.others.size() == 2);
    CHECK(seen.others[0] == f.unavailable);  // GUILD_DELETE unavailable, then GUILD_CREATE
    CHECK(seen.others[1].find("GUILD_CREATE") != std::string::npos);
  }
  SECTION("a fresh feed") {
    fixture f;
    auto [out, outcome] = f.migrate_in(1, 4);
    REQUIRE(outcome);
    CHECK(*outcome == migrant_outcome::resynced);
  }
  CHECK(relay::resyncs_counter(relay::resync_cause::migration).value() == before + 1);
}

TEST_CASE("an_ordinary_subscribe_and_a_forgotten_migrant_are_not_admitted_as_migrants") {
  fixture f;
  f.feed(1, 2);
  auto out = caf::make_counted<session::session_output>(5, 7, 0, &limits);
  relay::add_subscriber sub{out, 0, "x"};
  CHECK_FALSE(f.migrants.admit(f.core, f.recent, sub, f.unavailable));
  f.migrants.expect(6, 9);
  f.migrants.forget(6);
  relay::add_subscriber sub6{caf::make_counted<session::session_output>(6, 7, 0, &limits), 0, "x"};
  CHECK_FALSE(f.migrants.admit(f.core, f.recent, sub6, f.unavailable));
}

TEST_CASE("a_reset_at_a_known_position_lets_an_idle_partition_continue_a_migrant_at_it") {
  fixture f;
  f.recent.reset(12);  // a local guild's registration: it dispatched up to 12
  CHECK(f.recent.last_order() == 12);
  auto [out, outcome] = f.migrate_in(1, 12);
  REQUIRE(outcome);
  CHECK(*outcome == migrant_outcome::current);
  f.recent.reset(0);  // a guild that never dispatched anything: position 0 is known too
  CHECK(f.recent.covers(0));
  f.recent.reset();  // over a cross-node stream: unknown
  CHECK_FALSE(f.recent.covers(0));
}

TEST_CASE("an_unknown_cursor_is_resynced_and_a_partition_of_unknown_position_names_none") {
  fixture f;
  f.feed(1, 3);
  auto [out, outcome] = f.migrate_in(1, relay::unknown_cursor);
  REQUIRE(outcome);
  CHECK(*outcome == migrant_outcome::resynced);
  CHECK(f.recent.position() == std::optional<uint64_t>{3});
  f.recent.reset();
  CHECK_FALSE(f.recent.position());
  f.recent.push(event_at(9));
  CHECK(f.recent.position() == std::optional<uint64_t>{9});
}
