// SPDX-License-Identifier: Apache-2.0
// Refused publishes (invariants 7 and 1): a publish that cannot apply gets
// one typed error, changes nothing, is not dispatched and consumes no seq,
// even when it shares a group commit with valid events.
#include <mutex>
#include <set>

#include "actors/services/dispatch_error.hpp"
#include "actors/services/store_error_mapping.hpp"
#include "runtime/registry/ensure_started.hpp"
#include "test/actors/dispatch/dispatch_fixture.hpp"

namespace herald::dispatch_test {
namespace {

constexpr uint64_t guild_id = uint64_t{900} << 22;
constexpr uint64_t channel_id = guild_id + 1;
constexpr uint64_t muted_channel = guild_id + 2;
constexpr uint64_t owner = 80;
constexpr uint64_t alice = 81;

void seed(dispatch_env& env) {
  domain::permission_overwrite no_send{guild_id, domain::overwrite_type::role, 0,
                                       permissions::send_messages};
  guild_seed{guild_id, owner}
      .add_member(alice)
      .add_channel(channel_id)
      .add_channel(muted_channel, {no_send})
      .save(*env.storage);
}

}  // namespace

TEST_CASE("a_publish_to_an_unknown_guild_is_refused_with_unknown_guild") {
  dispatch_env env;
  seed(env);
  constexpr uint64_t nowhere = uint64_t{901} << 22;
  auto ack = dispatch::publish(
      env.svc, message_create(nowhere, nowhere + 1, owner, next_message_id(), "?"), 10s);
  REQUIRE_FALSE(ack);
  CHECK(dispatch::is_error(ack.error(), dispatch::dispatch_errc::unknown_guild));
  CHECK_FALSE(dispatch::is_retryable(ack.error()));
  CHECK_FALSE(env.svc->guilds.lookup(nowhere));
}

TEST_CASE("refused_events_change_nothing_and_consume_no_seq") {
  dispatch_env env;
  seed(env);
  auto s = open_subscribed(env.svc, session_for(alice, {guild_id}));

  auto unknown_channel = dispatch::publish(
      env.svc, message_create(guild_id, guild_id + 77, alice, next_message_id(), "x"), 10s);
  REQUIRE_FALSE(unknown_channel);
  CHECK(dispatch::is_error(unknown_channel.error(), dispatch::dispatch_errc::invalid_event));

  auto muted = dispatch::publish(
      env.svc, message_create(guild_id, muted_channel, alice, next_message_id(), "x"), 10s);
  REQUIRE_FALSE(muted);
  CHECK(dispatch::is_error(muted.error(), dispatch::dispatch_errc::missing_permission));

  proto::event edit;
  edit.set_guild_id(guild_id);
  edit.mutable_message_update()->set_id(next_message_id());
  edit.mutable_message_update()->set_channel_id(channel_id);
  edit.mutable_message_update()->set_content("edited");
  auto unknown_message = dispatch::publish(env.svc, edit, 10s);
  REQUIRE_FALSE(unknown_message);
  CHECK(dispatch::is_error(unknown_message.error(), dispatch::dispatch_errc::unknown_message));

  proto::event empty;
  empty.set_guild_id(guild_id);
  auto nothing = dispatch::publish(env.svc, empty, 10s);
  REQUIRE_FALSE(nothing);
  CHECK(dispatch::is_error(nothing.error(), dispatch::dispatch_errc::invalid_event));

  // The owner may post in the muted channel; the next frame is s = 3.
  uint64_t ok_id = next_message_id();
  publish_ok(env.svc, message_create(guild_id, muted_channel, owner, ok_id, "owner"));
  REQUIRE(s->drain_until_count(3));
  CHECK(s->frames().size() == 3);
  require_contiguous(s->frames());
  CHECK(message_ids(s->frames()) == std::vector<uint64_t>{ok_id});
}

TEST_CASE("refused_events_in_a_shared_group_commit_leave_the_valid_ones_delivered") {
  dispatch_env env;
  seed(env);
  auto s = open_subscribed(env.svc, session_for(alice, {guild_id}));
  std::mutex mutex;
  std::set<uint64_t> acked;
  std::set<uint64_t> refused;
  std::vector<std::thread> producers;
  for (int p = 0; p < 3; ++p) {
    producers.emplace_back([&, p] {
      for (int k = 0; k < 40; ++k) {
        uint64_t id = next_message_id();
        // Every third event is refused (alice may not send in the muted channel).
        bool valid = (k + p) % 3 != 0;
        auto ack = dispatch::publish(
            env.svc, message_create(guild_id, valid ? channel_id : muted_channel, alice, id, "g"),
            10s);
        std::lock_guard<std::mutex> guard{mutex};
        (ack ? acked : refused).insert(id);
      }
    });
  }
  for (auto& t : producers) {
    t.join();
  }
  CHECK(acked.size() == 80);
  CHECK(refused.size() == 40);
  REQUIRE(s->drain_until_count(2 + 80));
  uint64_t last = next_message_id();
  publish_ok(env.svc, message_create(guild_id, channel_id, owner, last, "last"));
  REQUIRE(s->drain_until_count(2 + 81));
  CHECK(s->frames().size() == 2 + 81);
  require_contiguous(s->frames());
  auto ids = message_ids(s->frames());
  ids.pop_back();
  CHECK(std::set<uint64_t>(ids.begin(), ids.end()) == acked);
  for (auto id : refused) {
    CHECK_FALSE(env.storage->get_message(id).ok());
  }
}

}  // namespace herald::dispatch_test

// The runtime's start errors (registry::start_errc) reach producers as the
// retryable dispatch_errc::unavailable; other errors pass through unchanged.
TEST_CASE("start_errors_of_ensure_started_map_to_a_retryable_unavailable") {
  using namespace herald;
  auto mapped = dispatch::from_start_error(
      registry::make_error(registry::start_errc::supervisor_unavailable, "supervisor restarting"));
  CHECK(dispatch::is_error(mapped, dispatch::dispatch_errc::unavailable));
  CHECK(dispatch::is_retryable(mapped));
  CHECK(dispatch::describe(mapped) ==
        "dispatch::unavailable: supervisor_unavailable: supervisor restarting");
  auto own = dispatch::make_error(dispatch::dispatch_errc::unknown_guild, "7");
  CHECK(
      dispatch::is_error(dispatch::from_start_error(own), dispatch::dispatch_errc::unknown_guild));
  CHECK_FALSE(dispatch::from_start_error(caf::error{}));
}

// The one store-to-dispatch mapping: not_found becomes the caller's error for the thing it
// asked for, a retryable store error (busy) the retryable unavailable, anything else store_error
// naming the store's code and message.
TEST_CASE("store_errors_map_to_the_caller_s_not_found_error_unavailable_or_store_error") {
  using namespace herald;
  auto unknown = dispatch::make_error(dispatch::dispatch_errc::unknown_guild, "7");
  auto not_found = dispatch::from_store_error(
      store::store_error{store::store_errc::not_found, "no row"}, unknown);
  CHECK(not_found == unknown);
  auto busy = dispatch::from_store_error(
      store::store_error{store::store_errc::busy, "database is locked"}, unknown);
  CHECK(dispatch::is_error(busy, dispatch::dispatch_errc::unavailable));
  CHECK(dispatch::is_retryable(busy));
  CHECK(dispatch::describe(busy) == "dispatch::unavailable: store busy: database is locked");
  auto corrupt = dispatch::from_store_error(
      store::store_error{store::store_errc::corrupt, "malformed page"}, unknown);
  CHECK(dispatch::is_error(corrupt, dispatch::dispatch_errc::store_error));
  CHECK_FALSE(dispatch::is_retryable(corrupt));
  CHECK(dispatch::describe(corrupt) == "dispatch::store_error: corrupt: malformed page");
}

// A commit whose outcome is unknown (PostgreSQL lost the connection during COMMIT) must not be
// retried by producers as new: it maps to a non-retryable store_error, every other commit
// failure to the retryable persist_failed.
TEST_CASE("an_in_doubt_commit_is_not_retryable_and_other_commit_failures_are") {
  using namespace herald;
  auto in_doubt = dispatch::from_commit_error(
      store::store_error{store::store_errc::in_doubt, "connection lost during COMMIT"});
  CHECK(dispatch::is_error(in_doubt, dispatch::dispatch_errc::store_error));
  CHECK_FALSE(dispatch::is_retryable(in_doubt));
  CHECK(dispatch::describe(in_doubt) ==
        "dispatch::store_error: in_doubt: connection lost during COMMIT");
  auto busy =
      dispatch::from_commit_error(store::store_error{store::store_errc::busy, "deadlock detected"});
  CHECK(dispatch::is_error(busy, dispatch::dispatch_errc::persist_failed));
  CHECK(dispatch::is_retryable(busy));
}
