// SPDX-License-Identifier: Apache-2.0
// The reactions feature on the platform's core event observation and store state: a message
// delete removes its reactions (memory and store), also when it races reaction adds; a channel
// delete drops the channel's; the guild checks access before existence (50001 before 10008).
#include <future>
#include <thread>

#include "actors/dispatch/commands.hpp"
#include "actors/domain/permission_bits.hpp"
#include "actors/services/dispatch_error.hpp"
#include "features/reactions/reaction_events.hpp"
#include "test/examples/feature-actor/reactions_fixture.hpp"

namespace herald::reactions_test {

namespace {

using namespace std::chrono_literals;

proto::event message_delete(uint64_t channel, uint64_t message) {
  proto::event ev;
  ev.set_guild_id(guild_id);
  ev.mutable_message_delete()->set_id(message);
  ev.mutable_message_delete()->set_channel_id(channel);
  return ev;
}

size_t stored(sb::sandbox& box, const std::string& prefix) {
  auto rows = box.store().load_feature_state(rx::feature_name, prefix);
  REQUIRE(rows);
  return rows.value().size();
}

}  // namespace

TEST_CASE("a_message_delete_removes_its_reactions_in_memory_and_in_the_store") {
  reactions_env env;
  const uint64_t m = uint64_t{1} << 43;
  const uint64_t kept = m + 1;
  env.box.post_message(guild_id, general, owner, m, "doomed");
  env.box.post_message(guild_id, general, owner, kept, "kept");
  env.add(general, m, alice, unicode("👍"));
  env.add(general, m, bob, unicode("🎉"));
  env.add(general, kept, alice, unicode("👍"));
  CHECK(stored(env.box, rx::message_prefix(general, m)) == 2);

  REQUIRE(dispatch::publish(env.box.services(), message_delete(general, m), 10s));
  // Observed after the delete's ack: wait for the counter, not for a while.
  REQUIRE(sb::eventually([&] { return env.counts(general, m).emojis_.empty(); }));
  REQUIRE(sb::eventually([&] { return stored(env.box, rx::message_prefix(general, m)) == 0; }));
  CHECK(env.counts(general, kept).of(unicode("👍")) == 1);
  CHECK(stored(env.box, rx::message_prefix(general, kept)) == 1);
  // Reacting to the deleted message is refused by the guild.
  auto late = rx::add_reaction(env.box.reactions(), general, m, alice, unicode("👍"));
  REQUIRE_FALSE(late);
  CHECK(dispatch::is_error(late.error(), dispatch::dispatch_errc::unknown_message));
}

TEST_CASE("a_delete_racing_reaction_adds_leaves_no_reactions_on_the_deleted_message") {
  for (int round = 0; round < 5; ++round) {
    reactions_env env;
    const uint64_t m = (uint64_t{1} << 44) + static_cast<uint64_t>(round);
    env.box.post_message(guild_id, general, owner, m, "racing");
    const std::vector<std::string> emojis{"👍", "🎉", "👀", "🚀", "❤", "😀", "🔥", "✅"};
    std::vector<std::future<void>> adders;
    for (uint64_t user : {owner, alice, bob}) {
      adders.push_back(std::async(std::launch::async, [&env, m, user, &emojis] {
        for (const auto& e : emojis) {
          // Refused once the delete is ordered first: either answer is fine here.
          (void)rx::add_reaction(env.box.reactions(), general, m, user, unicode(e.c_str()));
        }
      }));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(round));  // vary the interleaving
    REQUIRE(dispatch::publish(env.box.services(), message_delete(general, m), 10s));
    for (auto& a : adders) {
      a.get();
    }
    // Whatever the interleaving: nothing is left, in memory or in the store.
    REQUIRE(sb::eventually([&] { return env.counts(general, m).emojis_.empty(); }));
    REQUIRE(sb::eventually([&] { return stored(env.box, rx::message_prefix(general, m)) == 0; }));
  }
}

TEST_CASE("a_channel_delete_drops_the_channels_reactions") {
  reactions_env env;
  const uint64_t m = uint64_t{1} << 45;
  env.box.post_message(guild_id, hidden, owner, m, "in hidden");
  env.add(hidden, m, owner, unicode("👍"));
  CHECK(stored(env.box, rx::channel_prefix(hidden)) == 1);
  proto::event ev;
  ev.set_guild_id(guild_id);
  ev.mutable_channel_delete()->set_id(hidden);
  REQUIRE(dispatch::publish(env.box.services(), ev, 10s));
  REQUIRE(sb::eventually([&] { return stored(env.box, rx::channel_prefix(hidden)) == 0; }));
}

TEST_CASE(
    "a_reaction_in_a_channel_the_user_cannot_view_is_refused_before_its_message_is_looked_up") {
  reactions_env env;
  const uint64_t secret = uint64_t{1} << 46;
  env.box.post_message(guild_id, hidden, owner, secret, "secret");
  const feature::permission_check as_alice{alice, permissions::add_reactions};
  for (uint64_t message : {secret, secret + 999}) {
    auto r = rx::add_reaction(env.box.reactions(), hidden, message, alice, unicode("👍"),
                              rx::default_timeout, as_alice);
    REQUIRE_FALSE(r);
    CHECK(dispatch::is_error(r.error(), dispatch::dispatch_errc::missing_access));
  }
  // The owner sees the channel: an unknown message there is 10008.
  auto unknown = rx::add_reaction(env.box.reactions(), hidden, secret + 999, owner, unicode("👍"),
                                  rx::default_timeout, {owner, permissions::add_reactions});
  REQUIRE_FALSE(unknown);
  CHECK(dispatch::is_error(unknown.error(), dispatch::dispatch_errc::unknown_message));
}

}  // namespace herald::reactions_test
