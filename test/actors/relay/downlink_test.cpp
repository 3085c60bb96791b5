// SPDX-License-Identifier: Apache-2.0
// This node's relay downlink (actors/relay/downlink.hpp), in process: a test actor stands in for
// a peer's uplink, another for this node's relay of a guild (registered in services::relays).
// The relay receives its guild's sections in the link batch's order, tagged with the sending
// node and exporter; a malformed section is refused alone, counted and reported to the relay;
// a section of a guild without a relay here is dropped; the link batch is acknowledged.
#include <caf/scoped_actor.hpp>

#include "actors/relay/downlink.hpp"
#include "actors/relay/relay_metrics.hpp"
#include "actors/relay/relay_wire.hpp"
#include "test/actors/dispatch/cluster_fixture.hpp"
#include "test/actors/dispatch/dispatch_fixture.hpp"

using namespace herald;
using namespace herald::dispatch_test;

namespace {

relay::relay_wire::batch notice_batch(uint64_t guild, uint64_t seq, uint64_t user) {
  relay::relay_wire::batch b;
  b.guild_id = guild;
  b.seq = seq;
  b.kinds.push_back(static_cast<uint8_t>(relay::relay_wire::kind::notice));
  b.notices.push_back(relay::relay_wire::notice{user, true});
  return b;
}

}  // namespace

TEST_CASE("the_downlink_hands_each_relay_its_sections_in_order_and_refuses_malformed_ones_alone") {
  auto view = two_node_view();
  dispatch_env env{clustered_config(view, 5s)};
  REQUIRE(env.svc->relay_downlink);
  constexpr uint64_t guild = uint64_t{300} << 22;
  constexpr uint64_t unknown = uint64_t{301} << 22;
  caf::scoped_actor relay{*env.system};
  caf::scoped_actor uplink{*env.system};
  REQUIRE(!env.svc->relays.register_actor(guild, caf::actor_cast<caf::actor>(relay)));
  auto refused_before = relay::relay_refused_counter().value();

  relay::relay_wire::link_batch lb;
  lb.seq = 3;
  lb.sections.push_back({41, notice_batch(guild, 1, 1001)});
  auto malformed = notice_batch(guild, 2, 1002);
  malformed.notices.clear();  // one notice kind, no notice
  lb.sections.push_back({41, std::move(malformed)});
  lb.sections.push_back({42, notice_batch(unknown, 1, 1003)});
  lb.sections.push_back({41, notice_batch(guild, 3, 1004)});
  uplink->send(env.svc->relay_downlink, std::move(lb));

  uint64_t acked = 0;
  uplink->receive([&](relay::relay_wire::link_ack& ack) { acked = ack.seq; },
                  caf::after(10s) >> [] {});
  CHECK(acked == 3);

  std::vector<std::string> seen;
  for (int i = 0; i < 3; ++i) {
    relay->receive(
        [&](relay::link_section_atom, const caf::node_id& owner, uint64_t exporter,
            relay::relay_wire::batch& b) {
          CHECK(owner == uplink->node());
          REQUIRE(b.notices.size() == 1);
          seen.push_back("section " + std::to_string(exporter) + " " + std::to_string(b.seq) + " " +
                         std::to_string(b.notices[0].user_id));
        },
        [&](relay::link_refused_atom, const caf::node_id& owner, uint64_t exporter) {
          CHECK(owner == uplink->node());
          seen.push_back("refused " + std::to_string(exporter));
        },
        caf::after(10s) >> [] {});
  }
  CHECK(seen == std::vector<std::string>{"section 41 1 1001", "refused 41", "section 41 3 1004"});
  CHECK(relay::relay_refused_counter().value() == refused_before + 1);
  env.svc->relays.unregister(guild);
}
