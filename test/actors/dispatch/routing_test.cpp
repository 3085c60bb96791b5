// SPDX-License-Identifier: Apache-2.0
// Placement and routing on one node of a cluster (actors/dispatch/router.hpp), in process: the
// node's view holds itself (node 1) and a peer (node 2) on the ring, with no connection to the
// peer. Guilds this node owns publish here; guilds the peer owns are refused with the retryable
// unavailable error in bounded time and never started here; no guild node → unavailable; a
// routed publish_request for a guild this node does not own is refused, one for a guild it owns
// is applied and acknowledged.
#include <caf/scoped_actor.hpp>

#include "actors/dispatch/route_wire.hpp"
#include "actors/dispatch/router.hpp"
#include "test/actors/dispatch/cluster_fixture.hpp"
#include "test/actors/dispatch/dispatch_fixture.hpp"

using namespace herald;
using namespace herald::dispatch_test;

namespace {

constexpr uint64_t owner_user = 500;

}  // namespace

TEST_CASE("publishes_go_to_the_ring_owner_and_a_remote_owner_without_a_route_is_busy") {
  auto view = two_node_view();
  dispatch_env env{clustered_config(view, 2s)};
  REQUIRE(env.svc->router);
  auto local = guild_owned_by(*view, self_id, uint64_t{100} << 22);
  auto remote = guild_owned_by(*view, peer_id, uint64_t{100} << 22);
  guild_seed(local, owner_user).add_channel(local + 1).save(*env.storage);
  guild_seed(remote, owner_user).add_channel(remote + 1).save(*env.storage);

  CHECK(dispatch::place(*env.svc, local).where == dispatch::placement::kind::local);
  auto p = dispatch::place(*env.svc, remote);
  CHECK(p.where == dispatch::placement::kind::remote);
  CHECK(p.owner == peer_id);

  auto remote_before = dispatch::routed_publishes(true).value();
  auto ack = dispatch::publish(
      env.svc, message_create(local, local + 1, owner_user, next_message_id(), "here"), 10s);
  CHECK(ack);

  // The peer is in the ring but not connected: busy (retryable) within the bound, not started
  // here.
  auto started_at = std::chrono::steady_clock::now();
  auto busy = dispatch::publish(
      env.svc, message_create(remote, remote + 1, owner_user, next_message_id(), "there"), 10s);
  REQUIRE_FALSE(busy);
  CHECK(dispatch::is_error(busy.error(), dispatch::dispatch_errc::unavailable));
  CHECK(dispatch::is_retryable(busy.error()));
  CHECK(std::chrono::steady_clock::now() - started_at < 10s);
  CHECK_FALSE(env.svc->guilds.lookup(remote));
  CHECK(dispatch::routed_publishes(true).value() == remote_before + 1);

  // No guild node up: the owner is unknown, busy as well.
  view->publish(view->nodes(), std::make_shared<const cluster::ring>());
  CHECK(dispatch::place(*env.svc, local).where == dispatch::placement::kind::unknown);
  auto unknown = dispatch::publish(
      env.svc, message_create(local, local + 1, owner_user, next_message_id(), "nowhere"), 10s);
  REQUIRE_FALSE(unknown);
  CHECK(dispatch::is_error(unknown.error(), dispatch::dispatch_errc::unavailable));
}

TEST_CASE("a_router_orders_only_the_guilds_its_node_owns") {
  auto view = two_node_view();
  dispatch_env env{clustered_config(view, 2s)};
  auto local = guild_owned_by(*view, self_id, uint64_t{300} << 22);
  auto remote = guild_owned_by(*view, peer_id, uint64_t{300} << 22);
  guild_seed(local, owner_user).add_channel(local + 1).save(*env.storage);
  guild_seed(remote, owner_user).add_channel(remote + 1).save(*env.storage);

  auto routed = [&](uint64_t guild, std::string bytes) {
    caf::scoped_actor self{*env.system};
    caf::expected<dispatch::route_wire::publish_reply> out{caf::error{}};
    self->request(env.svc->router, 10s, dispatch::route_wire::publish_request{guild, bytes})
        .receive([&](dispatch::route_wire::publish_reply& r) { out = std::move(r); },
                 [&](caf::error& err) { out = std::move(err); });
    return out;
  };
  auto bytes_of = [](const proto::event& ev) {
    std::string out;
    ev.SerializeToString(&out);
    return out;
  };

  auto id = next_message_id();
  auto applied = routed(local, bytes_of(message_create(local, local + 1, owner_user, id, "hi")));
  REQUIRE(applied);
  CHECK(applied->guild_order > 0);
  CHECK(applied->payload.find("\"content\":\"hi\"") != std::string::npos);
  CHECK(env.storage->get_message(id));

  // Asked for a guild the peer owns in this node's view: refused, retryable, not started.
  auto moving = routed(
      remote, bytes_of(message_create(remote, remote + 1, owner_user, next_message_id(), "x")));
  REQUIRE_FALSE(moving);
  CHECK(dispatch::is_error(moving.error(), dispatch::dispatch_errc::unavailable));
  CHECK_FALSE(env.svc->guilds.lookup(remote));

  // Bytes that are no event, or an event of another guild: invalid.
  auto garbage = routed(local, std::string(7, '\xff'));
  REQUIRE_FALSE(garbage);
  CHECK(dispatch::is_error(garbage.error(), dispatch::dispatch_errc::invalid_event));
}
