// SPDX-License-Identifier: Apache-2.0
// The exporter of a guild to another node (actors/relay/exporter.hpp), in process: a test actor
// stands in for the remote relay and attaches through this node's router as a peer's relay
// would. The stream starts with the guild's view_reset; what the guild sends while a batch is
// unacknowledged leaves as one batch after the ack, in guild order; a member's subscribe is
// answered in the stream with its GUILD_CREATE and a non-member's is refused there; a guild
// this node does not own is refused.
#include <caf/scoped_actor.hpp>

#include "actors/dispatch/router.hpp"
#include "actors/relay/relay_wire.hpp"
#include "test/actors/dispatch/cluster_fixture.hpp"
#include "test/actors/dispatch/dispatch_fixture.hpp"

using namespace herald;
using namespace herald::dispatch_test;
using relay::relay_wire::kind;

namespace {

constexpr uint64_t owner_user = 500;

/// The next batch the importer receives (REQUIRE: within 10 s).
relay::relay_wire::batch next_batch(caf::scoped_actor& importer) {
  relay::relay_wire::batch out;
  bool got = false;
  importer->receive(
      [&](relay::relay_wire::batch& b) {
        out = std::move(b);
        got = true;
      },
      caf::after(10s) >> [] {});
  REQUIRE(got);
  return out;
}

}  // namespace

TEST_CASE("an_exporter_sends_what_queued_during_an_unacknowledged_batch_as_one_batch_in_order") {
  auto view = two_node_view();
  dispatch_env env{clustered_config(view, 5s)};
  auto guild = guild_owned_by(*view, self_id, uint64_t{300} << 22);
  guild_seed(guild, owner_user).add_channel(guild + 1).save(*env.storage);
  caf::scoped_actor importer{*env.system};

  relay::relay_wire::attach_reply reply;
  importer
      ->request(
          env.svc->router, 10s,
          relay::relay_wire::attach_request{guild, peer_id, caf::actor_cast<caf::actor>(importer)})
      .receive([&](relay::relay_wire::attach_reply& r) { reply = r; },
               [&](caf::error& err) { FAIL("attach refused: " << dispatch::describe(err)); });
  REQUIRE(reply.exporter);
  CHECK(reply.members == 1);

  // Batch 1 opens the stream with the guild's whole view.
  auto first = next_batch(importer);
  CHECK(first.guild_id == guild);
  CHECK(first.seq == 1);
  REQUIRE(!first.kinds.empty());
  CHECK(first.kinds.front() == static_cast<uint8_t>(kind::view_reset));

  // Unacknowledged: a member's and a stranger's subscribe and three events queue.
  importer->send(reply.exporter, relay::relay_wire::subscribe_request{71, owner_user});
  importer->send(reply.exporter, relay::relay_wire::subscribe_request{72, 12345});
  for (int i = 0; i < 3; ++i) {
    auto ack = dispatch::publish(
        env.svc,
        message_create(guild, guild + 1, owner_user, next_message_id(), "m" + std::to_string(i)),
        10s);
    REQUIRE(ack);
  }
  importer->send(reply.exporter, relay::relay_wire::batch_ack{guild, first.seq});

  // The three events, queued while batch 1 was unacknowledged, leave together in batch 2, in
  // guild order. The subscribe answers took a detour (importer → exporter → guild → exporter)
  // and are in batch 2 or a later one.
  auto second = next_batch(importer);
  CHECK(second.seq == 2);
  REQUIRE(second.events.size() == 3);
  CHECK(second.events[0].guild_order < second.events[1].guild_order);
  CHECK(second.events[1].guild_order < second.events[2].guild_order);
  CHECK(second.events[2].full_tail.view().find("m2") != std::string::npos);
  std::vector<relay::relay_wire::subscriber> answers = second.subscribers;
  for (uint64_t seq = 2; answers.size() < 2 && seq < 10; ++seq) {
    importer->send(reply.exporter, relay::relay_wire::batch_ack{guild, seq});
    auto more = next_batch(importer);
    CHECK(more.events.empty());
    answers.insert(answers.end(), more.subscribers.begin(), more.subscribers.end());
  }
  REQUIRE(answers.size() == 2);
  CHECK(answers[0].session_id == 71);
  CHECK(answers[0].errc == 0);
  CHECK(answers[0].guild_create_tail.find("GUILD_CREATE") != std::string::npos);
  CHECK(answers[1].session_id == 72);
  CHECK(answers[1].errc == static_cast<uint8_t>(dispatch::dispatch_errc::not_member));

  caf::anon_send_exit(reply.exporter, caf::exit_reason::user_shutdown);
}

TEST_CASE("an_attach_for_a_guild_this_node_does_not_own_is_refused_and_starts_nothing") {
  auto view = two_node_view();
  dispatch_env env{clustered_config(view, 5s)};
  auto guild = guild_owned_by(*view, peer_id, uint64_t{300} << 22);
  guild_seed(guild, owner_user).add_channel(guild + 1).save(*env.storage);
  caf::scoped_actor importer{*env.system};
  bool refused = false;
  importer
      ->request(
          env.svc->router, 10s,
          relay::relay_wire::attach_request{guild, peer_id, caf::actor_cast<caf::actor>(importer)})
      .receive([&](relay::relay_wire::attach_reply&) {},
               [&](caf::error& err) {
                 refused = dispatch::is_error(err, dispatch::dispatch_errc::unavailable);
               });
  CHECK(refused);
  CHECK_FALSE(env.svc->guilds.lookup(guild));
}
