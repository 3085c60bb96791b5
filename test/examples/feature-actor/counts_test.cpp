// SPDX-License-Identifier: Apache-2.0
// The counter's arithmetic: per message, per emoji, at most once per user;
// refused reactions change nothing.
#include "actors/services/dispatch_error.hpp"
#include "actors/store/store.hpp"
#include "test/examples/feature-actor/reactions_fixture.hpp"

namespace herald::reactions_test {

TEST_CASE("counts_are_per_message_per_emoji_and_idempotent_per_user") {
  reactions_env env;
  const uint64_t m1 = uint64_t{1} << 41;
  const uint64_t m2 = m1 + 1;
  env.box.post_message(guild_id, general, owner, m1, "first");
  env.box.post_message(guild_id, general, owner, m2, "second");

  CHECK(env.add(general, m1, alice, unicode("👍")) == 1);
  CHECK(env.add(general, m1, bob, unicode("👍")) == 2);
  CHECK(env.add(general, m1, bob, unicode("👍")) == 2);  // repeat: no change
  CHECK(env.add(general, m1, alice, unicode("🎉")) == 1);
  CHECK(env.add(general, m2, alice, unicode("👍")) == 1);
  // A custom emoji named like a unicode one is a different reaction.
  CHECK(env.add(general, m1, alice, rx::emoji{42, "👍"}) == 1);

  auto c1 = env.counts(general, m1);
  CHECK(c1.emojis_.size() == 3);
  CHECK(c1.of(unicode("👍")) == 2);
  CHECK(c1.of(unicode("🎉")) == 1);
  CHECK(c1.of(rx::emoji{42, "👍"}) == 1);
  CHECK(env.counts(general, m2).of(unicode("👍")) == 1);

  CHECK(env.remove(general, m1, bob, unicode("👍")) == 1);
  CHECK(env.remove(general, m1, bob, unicode("👍")) == 1);    // not held: no change
  CHECK(env.remove(general, m1, owner, unicode("🎉")) == 1);  // never reacted
  CHECK(env.remove(general, m1, alice, unicode("🎉")) == 0);
  auto after = env.counts(general, m1);
  CHECK(after.of(unicode("🎉")) == 0);
  CHECK(after.emojis_.size() == 2);  // no zero counts are listed
}

TEST_CASE("a_reaction_to_an_unknown_message_or_with_a_bad_emoji_is_refused") {
  reactions_env env;
  const uint64_t m = uint64_t{1} << 42;
  env.box.post_message(guild_id, general, owner, m, "hello");

  // The guild checks the message as it orders the reaction.
  auto unknown = rx::add_reaction(env.box.reactions(), general, m + 99, alice, unicode("👍"));
  REQUIRE_FALSE(unknown);
  CHECK(dispatch::is_error(unknown.error(), dispatch::dispatch_errc::unknown_message));
  // The message exists, but not in that channel.
  auto elsewhere = rx::add_reaction(env.box.reactions(), hidden, m, owner, unicode("👍"));
  REQUIRE_FALSE(elsewhere);
  CHECK(dispatch::is_error(elsewhere.error(), dispatch::dispatch_errc::unknown_message));
  auto empty = rx::add_reaction(env.box.reactions(), general, m, alice, unicode(""));
  REQUIRE_FALSE(empty);
  CHECK(rx::is_error(empty.error(), rx::reactions_errc::invalid_emoji));
  auto long_name = rx::add_reaction(env.box.reactions(), general, m, alice,
                                    rx::emoji{0, std::string(rx::max_emoji_name + 1, 'x')});
  REQUIRE_FALSE(long_name);
  CHECK(rx::is_error(long_name.error(), rx::reactions_errc::invalid_emoji));

  CHECK(env.counts(general, m).emojis_.empty());
  CHECK(env.add(general, m, alice, unicode("👍")) == 1);  // the counter is still fine
}

TEST_CASE("a_reaction_whose_publish_fails_is_not_counted") {
  reactions_env env;
  // A channel and message the store knows, in a guild that does not exist: the
  // counter starts, the guild cannot, so the publish fails.
  const uint64_t ghost_guild = uint64_t{78} << 22;
  const uint64_t ghost_channel = ghost_guild + 1;
  const uint64_t m = uint64_t{1} << 49;
  domain::message msg;
  msg.id_ = m;
  msg.channel_id_ = ghost_channel;
  msg.guild_id_ = ghost_guild;
  msg.author_id_ = owner;
  msg.content_ = "orphan";
  domain::channel ch;
  ch.id_ = ghost_channel;
  ch.guild_id_ = ghost_guild;
  ch.name_ = "ghost";
  store::write_batch batch;
  batch.add(store::write_op::upsert_channel{ch}).add(store::write_op::insert_message{msg});
  REQUIRE(env.box.store().apply(batch));

  for (int attempt = 0; attempt < 2; ++attempt) {
    auto n = rx::add_reaction(env.box.reactions(), ghost_channel, m, alice, unicode("👍"));
    REQUIRE_FALSE(n);
    CHECK(dispatch::is_error(n.error(), dispatch::dispatch_errc::unknown_guild));
    CHECK(env.counts(ghost_channel, m).emojis_.empty());
  }
  CHECK(env.box.reactions()->counters->lookup(ghost_channel));  // refused, not crashed
}

TEST_CASE("counts_of_a_channel_without_reactions_are_empty") {
  reactions_env env;
  CHECK(env.counts(general, 12345).emojis_.empty());
}

}  // namespace herald::reactions_test
