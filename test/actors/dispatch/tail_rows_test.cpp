// SPDX-License-Identifier: Apache-2.0
// The guild actor's event tail rows (docs/store.md, "Event tail"): each fenced batch it hands the
// store writes one row holding the batch's events, positioned at its last event and chained to
// the row before; a relay registering with a cursor inside a row is replayed only what follows
// the cursor; a restarted guild chains its first row to the newest one and takes the next slot.
// Real guild actor, store writer and SQLite store; the store's commit gate holds the first batch
// so that the next events gather into one batch. Every wait is bounded.
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include "actors/guild/event_tail.hpp"
#include "actors/relay/relay_messages.hpp"
#include "runtime/metrics/actor_metrics.hpp"
#include "test/actors/dispatch/dispatch_fixture.hpp"

namespace herald::dispatch_test {
namespace {

constexpr uint64_t guild_id = uint64_t{710} << 22;
constexpr uint64_t channel = 7101;
constexpr uint64_t owner = 71;

/// What a relay registered with the guild received: its view_reset and the replayed events.
struct relay_probe {
  std::mutex mutex;
  std::optional<relay::stream_position> replay_from;
  std::vector<relay::stream_position> replayed;
  bool reset = false;

  caf::actor spawn(caf::actor_system& sys) {
    return sys.spawn([this](caf::event_based_actor* self) -> caf::behavior {
      self->set_default_handler(caf::drop);
      return {
          [this](const relay::view_reset& r) {
            std::lock_guard<std::mutex> guard(mutex);
            reset = true;
            replay_from = r.replay_from;
          },
          [this](const relay::dispatch_batch_ptr& batch) {
            std::lock_guard<std::mutex> guard(mutex);
            for (const auto& ev : batch->events) {
              replayed.push_back(ev->position());
            }
          },
      };
    });
  }
  bool got_reset() {
    std::lock_guard<std::mutex> guard(mutex);
    return reset;
  }
};

/// A post of a new message, on its own thread (the publish waits for the commit the test holds).
std::unique_ptr<async_publish> post_async(const dispatch::services_ptr& svc) {
  return std::make_unique<async_publish>(
      svc, message_create(guild_id, channel, owner, next_message_id(), "m"));
}

uint64_t order_of(async_publish& post) {
  auto& r = post.get();
  if (!r) {
    FAIL("publish failed: " << dispatch::describe(r.error()));
  }
  return r->guild_order;
}

uint64_t guild_messages_handled() {
  return metrics::messages_handled("guild").value();
}

std::vector<hs::tail_event> rows(dispatch_env& env) {
  auto read = env.storage->read_tail(guild_id, 0, 0);
  REQUIRE(read);
  return read.value();
}

/// The orders a row holds, decoded as a replay from the start would.
std::vector<uint64_t> orders_in(const hs::tail_event& row) {
  auto events = guild::decode_tail_row(
      row, {}, guild_id, [](uint64_t) { return 0u; },
      [](uint64_t, bool) -> caf::intrusive_ptr<relay::dispatch_event> {
        auto ev = caf::make_counted<relay::dispatch_event>();
        ev->channel_slot = 0;  // a channel that exists
        return ev;
      });
  REQUIRE(events);
  std::vector<uint64_t> out;
  for (const auto& ev : *events) {
    out.push_back(ev->guild_order);
  }
  return out;
}

}  // namespace

TEST_CASE("a_guild_batch_is_one_tail_row_and_a_replay_from_inside_it_gives_what_follows") {
  dispatch_env env;
  guild_seed(guild_id, owner).add_channel(channel).save(*env.storage);
  CHECK(publish_ok(env.svc, message_create(guild_id, channel, owner, next_message_id(), "m"))
            .guild_order == 1);

  // Order 2 is committed alone while the gate holds it; 3, 4 and 5 gather behind it.
  env.storage->close_commits();
  auto second = post_async(env.svc);
  REQUIRE(eventually([&] { return env.storage->commits_waiting() == 1; }));
  const auto handled_before = guild_messages_handled();
  std::vector<std::unique_ptr<async_publish>> gathered;
  for (int i = 0; i < 3; ++i) {
    gathered.push_back(post_async(env.svc));
    // One at a time: the orders follow the publishes.
    REQUIRE(eventually([&] { return guild_messages_handled() == handled_before + i + 1; }));
  }
  env.storage->open_commits();
  CHECK(order_of(*second) == 2);
  for (size_t i = 0; i < gathered.size(); ++i) {
    CHECK(order_of(*gathered[i]) == 3 + i);
  }

  // 1, 2, then 3..5 (the third publish was handled, so 3 and 4 were staged before the gate
  // opened; 5 may have joined them or come alone).
  auto tail = rows(env);
  REQUIRE(tail.size() >= 3);
  REQUIRE(tail.size() <= 4);
  CHECK(orders_in(tail[0]) == std::vector<uint64_t>{1});
  CHECK(orders_in(tail[1]) == std::vector<uint64_t>{2});
  CHECK(guild::previous_of(tail[0]) == relay::stream_position{});
  const auto third = orders_in(tail[2]);
  REQUIRE(third.size() >= 2);
  CHECK(third[0] == 3);
  CHECK(third[1] == 4);
  CHECK(tail.back().order_ == 5);
  for (size_t i = 1; i < tail.size(); ++i) {
    CHECK(guild::previous_of(tail[i]) == guild::position_of(tail[i - 1]));
    CHECK(tail[i].slot_ == i);  // one slot per row, in turn
  }
  CHECK(guild::tail_covers(tail, {}));

  // A relay that had 1..3 registers: the row 3..4(..5) straddles its cursor.
  const uint64_t epoch = tail[0].epoch_;
  relay_probe probe;
  auto relay = probe.spawn(*env.system);
  auto g = env.svc->guilds.lookup(guild_id);
  REQUIRE(g);
  caf::anon_send(g, relay::register_atom::value, relay, std::vector<caf::actor>{relay}, epoch,
                 uint64_t{3});
  REQUIRE(eventually([&] {
    std::lock_guard<std::mutex> guard(probe.mutex);
    return probe.replayed.size() >= 2;
  }));
  {
    std::lock_guard<std::mutex> guard(probe.mutex);
    CHECK(probe.replay_from == relay::stream_position{epoch, 3});
    CHECK(probe.replayed == std::vector<relay::stream_position>{{epoch, 4}, {epoch, 5}});
  }
  caf::anon_send_exit(relay, caf::exit_reason::user_shutdown);

  // A restarted guild chains its first row to the newest one and takes the next slot.
  caf::anon_send_exit(g, caf::exit_reason::kill);
  REQUIRE(eventually([&] { return !env.svc->guilds.lookup(guild_id); }));
  CHECK(publish_ok(env.svc, message_create(guild_id, channel, owner, next_message_id(), "m"))
            .guild_order == 6);
  auto after = rows(env);
  REQUIRE(after.size() == tail.size() + 1);
  const auto& newest = after.back();
  CHECK(newest.epoch_ == epoch + 1);
  CHECK(newest.order_ == 6);
  CHECK(guild::previous_of(newest) == guild::position_of(tail.back()));
  CHECK(newest.slot_ == tail.back().slot_ + 1);
  CHECK(guild::tail_covers(after, {epoch, 3}));
}

TEST_CASE("without_a_tail_a_relay_registering_behind_the_guild_is_told_to_resync") {
  dispatch::dispatch_config dc;
  dc.event_tail_orders = 0;  // dispatch.event_tail_orders = 0: no tail is kept
  dispatch_env env{dc};
  guild_seed(guild_id, owner).add_channel(channel).save(*env.storage);
  for (uint64_t order = 1; order <= 3; ++order) {
    CHECK(publish_ok(env.svc, message_create(guild_id, channel, owner, next_message_id(), "m"))
              .guild_order == order);
  }
  CHECK(rows(env).empty());

  // A relay that had only order 1: nothing can be replayed, so the reset's replay starts at the
  // guild's position now and the relay's partitions resync (partition_core::sync).
  auto g = env.svc->guilds.lookup(guild_id);
  REQUIRE(g);
  relay_probe probe;
  auto relay = probe.spawn(*env.system);
  const uint64_t epoch = 1;
  caf::anon_send(g, relay::register_atom::value, relay, std::vector<caf::actor>{relay}, epoch,
                 uint64_t{1});
  REQUIRE(eventually([&] { return probe.got_reset(); }));
  {
    std::lock_guard<std::mutex> guard(probe.mutex);
    REQUIRE(probe.replay_from);
    CHECK(probe.replay_from->order == 3);
    CHECK(probe.replayed.empty());
  }
  caf::anon_send_exit(relay, caf::exit_reason::user_shutdown);
}

}  // namespace herald::dispatch_test
