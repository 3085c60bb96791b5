// SPDX-License-Identifier: Apache-2.0
// The exporter of a guild to another node (actors/relay/exporter.hpp) and the uplink carrying it
// (uplink.hpp), in process: a test actor stands in for the remote relay and for its node's
// downlink, and attaches through this node's router as a peer's relay would. The stream starts
// with the guild's view_reset; one link batch is unacknowledged at a time; the guild's events
// follow in guild order with consecutive batch seqs; a member's subscribe is answered in the
// stream with its GUILD_CREATE and a non-member's is refused there; two guilds' streams share
// one link, each in its order; a guild this node does not own is refused.
#include <map>

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

/// The next link batch the downlink receives (REQUIRE: within 10 s), and its uplink.
struct received_link {
  relay::relay_wire::link_batch lb;
  caf::actor uplink;
};

received_link next_link(caf::scoped_actor& downlink) {
  received_link out;
  bool got = false;
  downlink->receive(
      [&](relay::relay_wire::link_batch& lb) {
        out.lb = std::move(lb);
        out.uplink = caf::actor_cast<caf::actor>(downlink->current_sender());
        got = true;
      },
      caf::after(10s) >> [] {});
  REQUIRE(got);
  return out;
}

relay::relay_wire::attach_reply attach(dispatch_env& env, caf::scoped_actor& importer,
                                       uint64_t guild) {
  relay::relay_wire::attach_reply reply;
  auto me = caf::actor_cast<caf::actor>(importer);
  importer->request(env.svc->router, 10s, relay::relay_wire::attach_request{guild, peer_id, me, me})
      .receive([&](relay::relay_wire::attach_reply& r) { reply = r; },
               [&](caf::error& err) { FAIL("attach refused: " << dispatch::describe(err)); });
  REQUIRE(reply.exporter);
  return reply;
}

void publish_n(dispatch_env& env, uint64_t guild, int n, const std::string& prefix) {
  for (int i = 0; i < n; ++i) {
    auto ack = dispatch::publish(
        env.svc,
        message_create(guild, guild + 1, owner_user, next_message_id(), prefix + std::to_string(i)),
        10s);
    REQUIRE(ack);
  }
}

}  // namespace

TEST_CASE("an_exporter_streams_through_the_uplink_one_link_batch_in_flight_in_guild_order") {
  auto view = two_node_view();
  dispatch_env env{clustered_config(view, 5s)};
  auto guild = guild_owned_by(*view, self_id, uint64_t{300} << 22);
  guild_seed(guild, owner_user).add_channel(guild + 1).save(*env.storage);
  caf::scoped_actor importer{*env.system};  // the relay and its node's downlink
  auto reply = attach(env, importer, guild);
  CHECK(reply.members == 1);

  // Link batch 1 opens the stream with the guild's whole view, from this exporter.
  auto first = next_link(importer);
  CHECK(first.lb.seq == 1);
  REQUIRE(first.lb.sections.size() == 1);
  const auto& opening = first.lb.sections[0];
  CHECK(opening.exporter_id == reply.exporter.id());
  CHECK(opening.items.guild_id == guild);
  CHECK(opening.items.seq == 1);
  REQUIRE(!opening.items.kinds.empty());
  CHECK(opening.items.kinds.front() == static_cast<uint8_t>(kind::view_reset));

  // Link batch 1 unacknowledged: a member's and a stranger's subscribe and three events queue
  // (in the exporter, and one batch of it in the uplink).
  importer->send(reply.exporter, relay::relay_wire::subscribe_request{71, owner_user});
  importer->send(reply.exporter, relay::relay_wire::subscribe_request{72, 12345});
  publish_n(env, guild, 3, "m");
  importer->send(first.uplink, relay::relay_wire::link_ack{first.lb.seq});

  // Then the events in guild order and the answers, over the next link batches, each link
  // batch sent only after the previous one's ack, the exporter's batches numbered 2, 3, …
  std::vector<relay::relay_wire::event> events;
  std::vector<relay::relay_wire::subscriber> answers;
  uint64_t link_seq = 1;
  uint64_t batch_seq = 1;
  while ((events.size() < 3 || answers.size() < 2) && link_seq < 12) {
    auto more = next_link(importer);
    CHECK(more.lb.seq == ++link_seq);
    for (auto& s : more.lb.sections) {
      CHECK(s.items.guild_id == guild);
      CHECK(s.items.seq == ++batch_seq);
      events.insert(events.end(), s.items.events.begin(), s.items.events.end());
      answers.insert(answers.end(), s.items.subscribers.begin(), s.items.subscribers.end());
    }
    importer->send(more.uplink, relay::relay_wire::link_ack{more.lb.seq});
  }
  REQUIRE(events.size() == 3);
  CHECK(events[0].guild_order < events[1].guild_order);
  CHECK(events[1].guild_order < events[2].guild_order);
  CHECK(events[2].full_tail.view().find("m2") != std::string::npos);
  REQUIRE(answers.size() == 2);
  CHECK(answers[0].session_id == 71);
  CHECK(answers[0].errc == 0);
  CHECK(answers[0].guild_create_tail.find("GUILD_CREATE") != std::string::npos);
  CHECK(answers[1].session_id == 72);
  CHECK(answers[1].errc == static_cast<uint8_t>(dispatch::dispatch_errc::not_member));

  caf::anon_send_exit(reply.exporter, caf::exit_reason::user_shutdown);
}

TEST_CASE("two_guilds_share_one_link_and_each_keeps_its_order") {
  auto view = two_node_view();
  dispatch_env env{clustered_config(view, 5s)};
  auto a = guild_owned_by(*view, self_id, uint64_t{300} << 22);
  auto b = guild_owned_by(*view, self_id, a + (uint64_t{1} << 22));
  REQUIRE(a != b);
  guild_seed(a, owner_user).add_channel(a + 1).save(*env.storage);
  guild_seed(b, owner_user).add_channel(b + 1).save(*env.storage);
  caf::scoped_actor importer{*env.system};
  auto reply_a = attach(env, importer, a);
  auto reply_b = attach(env, importer, b);
  publish_n(env, a, 4, "a");
  publish_n(env, b, 4, "b");

  // Every link batch comes from one uplink; per guild, the exporter's batch seqs run 1, 2, …
  // and the events' guild orders rise; both guilds' 4 events arrive.
  std::map<uint64_t, uint64_t> last_seq;
  std::map<uint64_t, std::vector<uint64_t>> orders;
  std::map<uint64_t, uint64_t> exporter_of{{a, reply_a.exporter.id()}, {b, reply_b.exporter.id()}};
  caf::actor uplink;
  size_t shared = 0;  // link batches carrying both guilds
  for (int i = 0; i < 40 && (orders[a].size() < 4 || orders[b].size() < 4); ++i) {
    auto link = next_link(importer);
    if (!uplink) {
      uplink = link.uplink;
    }
    CHECK(link.uplink == uplink);
    std::map<uint64_t, bool> here;
    for (auto& s : link.lb.sections) {
      auto g = s.items.guild_id;
      REQUIRE((g == a || g == b));
      here[g] = true;
      CHECK(s.exporter_id == exporter_of[g]);
      CHECK(s.items.seq == ++last_seq[g]);
      for (auto& e : s.items.events) {
        orders[g].push_back(e.guild_order);
      }
    }
    shared += here.size() == 2 ? 1 : 0;
    importer->send(link.uplink, relay::relay_wire::link_ack{link.lb.seq});
  }
  for (auto g : {a, b}) {
    REQUIRE(orders[g].size() == 4);
    CHECK(std::is_sorted(orders[g].begin(), orders[g].end()));
  }
  INFO("link batches with both guilds' sections: " << shared);
  caf::anon_send_exit(reply_a.exporter, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(reply_b.exporter, caf::exit_reason::user_shutdown);
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
          relay::relay_wire::attach_request{guild, peer_id, caf::actor_cast<caf::actor>(importer),
                                            caf::actor_cast<caf::actor>(importer)})
      .receive([&](relay::relay_wire::attach_reply&) {},
               [&](caf::error& err) {
                 refused = dispatch::is_error(err, dispatch::dispatch_errc::unavailable);
               });
  CHECK(refused);
  CHECK_FALSE(env.svc->guilds.lookup(guild));
}
