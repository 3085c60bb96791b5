// SPDX-License-Identifier: Apache-2.0
// The cluster's revoke notice and notifier: the notice survives CAF's binary serialisation under
// its announced wire name (what BASP does between nodes); a notice from a peer makes the
// receiving node's token authority drop its cached epoch (the revoked token is refused at once)
// and closes the user's connections there; a revoke reaches the notifier of every up peer that
// the peer's membership actor names, and a peer that cannot be reached is counted as failed and
// gets the notice again once it is reachable.
// Between nodes the same path runs over real connections in
// test/integration/cluster/revoke_test.cpp.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/rtti_pair.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/uniform_type_info_map.hpp>
#include <catch2/catch.hpp>

#include "actors/identity/revoke_notifier.hpp"
#include "actors/identity/revoke_wire.hpp"
#include "actors/identity/token_authority.hpp"
#include "runtime/metrics/metrics.hpp"
#include "test/actors/dispatch/cluster_fixture.hpp"
#include "test/actors/identity/users_store.hpp"
#include "test/support/eventually.hpp"

namespace herald::identity {

namespace {

constexpr const char* secret = "0123456789abcdef-cluster-secret";

/// One actor system with the revoke wire types announced, and the store the "nodes'" token
/// authorities share.
struct fixture : users_store {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> system;

  fixture() {
    revoke_wire::announce_revoke_wire_types(cfg);
    system = std::make_unique<caf::actor_system>(cfg);
  }
};

/// The users whose connections a notifier closed (any thread).
struct closed_users {
  std::mutex mutex;
  std::vector<uint64_t> users;
  std::function<void(uint64_t)> callback() {
    return [this](uint64_t u) {
      std::lock_guard<std::mutex> guard{mutex};
      users.push_back(u);
    };
  }
  std::vector<uint64_t> get() {
    std::lock_guard<std::mutex> guard{mutex};
    return users;
  }
};

uint64_t counter(const char* name, const metrics::labels& labels = {}) {
  return metrics::registry::global().get_counter(name, "", labels).value();
}

}  // namespace

TEST_CASE("a_revoke_notice_survives_cafs_binary_serialisation_under_its_wire_name") {
  fixture f;
  auto msg = caf::make_message(revoke_wire::revoke_notice{7, 1351860123456789504u, 42});
  std::vector<char> buf;
  caf::binary_serializer sink{*f.system, buf};
  REQUIRE(!sink(msg));  // fails for a type the system does not know by name
  caf::message back;
  caf::binary_deserializer source{*f.system, buf};
  REQUIRE(!source(back));
  REQUIRE(back.match_elements<revoke_wire::revoke_notice>());
  const auto& n = back.get_as<revoke_wire::revoke_notice>(0);
  CHECK(n.from_node == 7);
  CHECK(n.user_id == 1351860123456789504u);
  CHECK(n.epoch == 42);
  CHECK(f.system->types().portable_name(caf::make_rtti_pair<revoke_wire::revoke_notice>()) ==
        "herald.identity.revoke_notice.v1");
}

TEST_CASE("a_notice_from_a_peer_drops_the_cached_epoch_and_closes_the_users_connections") {
  fixture f;
  token_authority revoker{secret, f.st};
  auto here = std::make_shared<token_authority>(secret, f.st, std::chrono::seconds{0},
                                                std::chrono::hours{1});
  auto token = revoker.issue(1001);
  REQUIRE(here->authenticate(token) == 1001u);  // cached: epoch 0
  auto epoch = revoker.revoke(1001);
  REQUIRE(epoch);
  REQUIRE(here->authenticate(token) == 1001u);  // the cache still says 0

  closed_users closed;
  revoke_notifier_options o;
  o.node_id = dispatch_test::self_id;
  o.view = dispatch_test::two_node_view();
  o.tokens = here;
  o.close_connections = closed.callback();
  auto notifier = spawn_revoke_notifier(*f.system, o);
  auto received_before = counter("herald_cluster_revoke_notices_total", {{"direction", "in"}});

  caf::scoped_actor self{*f.system};
  bool answered = false;
  self->request(notifier, std::chrono::seconds{10},
                revoke_wire::revoke_notice{dispatch_test::peer_id, 1001, *epoch})
      .receive([&] { answered = true; }, [&](caf::error& err) { FAIL(caf::to_string(err)); });
  CHECK(answered);
  CHECK_FALSE(here->authenticate(token));
  CHECK(here->authenticate(revoker.issue(1001)) == 1001u);
  CHECK(closed.get() == std::vector<uint64_t>{1001});
  CHECK(counter("herald_cluster_revoke_notices_total", {{"direction", "in"}}) ==
        received_before + 1);
  stop_revoke_notifier(*f.system, notifier);
  CHECK(!f.system->registry().get(revoke_notifier_name));
}

TEST_CASE(
    "a_revoke_reaches_the_notifier_the_peers_membership_actor_names_and_an_unreachable_peer_"
    "counts_as_failed") {
  fixture f;
  auto tokens = std::make_shared<token_authority>(secret, f.st);
  closed_users closed_on_peer;
  closed_users closed_here;

  // The peer's notifier (not registered under the name: this one system also holds ours).
  revoke_notifier_options peer_opts;
  peer_opts.node_id = dispatch_test::peer_id;
  peer_opts.view = dispatch_test::two_node_view();
  peer_opts.tokens = tokens;
  peer_opts.close_connections = closed_on_peer.callback();
  auto peer_notifier = spawn_revoke_notifier(*f.system, peer_opts);
  f.system->registry().erase(revoke_notifier_name);
  // What the peer's membership actor answers: the service registered under the name there.
  auto membership = f.system->spawn([peer_notifier](caf::event_based_actor*) -> caf::behavior {
    return {[peer_notifier](cluster::lookup_service_atom,
                            caf::atom_value name) -> caf::strong_actor_ptr {
      return name == revoke_notifier_name ? caf::actor_cast<caf::strong_actor_ptr>(peer_notifier)
                                          : nullptr;
    }};
  });

  auto view = dispatch_test::two_node_view();
  view->set_peers({{dispatch_test::peer_id, membership}});
  revoke_notifier_options o;
  o.node_id = dispatch_test::self_id;
  o.view = view;
  o.tokens = tokens;
  o.close_connections = closed_here.callback();
  o.retry_interval = std::chrono::milliseconds{20};
  auto notifier = spawn_revoke_notifier(*f.system, o);

  auto sent = counter("herald_cluster_revoke_notices_total", {{"direction", "out"}});
  auto failed = counter("herald_cluster_revoke_notices_failed_total");
  caf::anon_send(notifier, revoke_atom::value, uint64_t{1001}, uint64_t{1});
  CHECK(testing::eventually([&] { return closed_on_peer.get() == std::vector<uint64_t>{1001}; }));
  CHECK(counter("herald_cluster_revoke_notices_total", {{"direction", "out"}}) == sent + 1);
  CHECK(closed_here.get().empty());  // the revoking node closes its own connections itself

  // The peer is up in the view but its connection is gone: no membership actor to ask. The
  // notice counts as failed and is kept; once the connection is back it is sent again and the
  // peer closes the user's connections (a frozen node that comes back).
  view->set_peers({});
  auto retried = counter("herald_cluster_revoke_notices_retried_total");
  caf::anon_send(notifier, revoke_atom::value, uint64_t{1001}, uint64_t{2});
  CHECK(testing::eventually(
      [&] { return counter("herald_cluster_revoke_notices_failed_total") == failed + 1; }));
  CHECK(closed_on_peer.get().size() == 1);
  CHECK(testing::eventually([&] {
    return metrics::registry::global()
               .get_gauge("herald_cluster_revoke_notices_pending", "")
               .value() == 1;
  }));
  view->set_peers({{dispatch_test::peer_id, membership}});
  CHECK(testing::eventually([&] { return closed_on_peer.get().size() == 2; }));
  CHECK(counter("herald_cluster_revoke_notices_retried_total") == retried + 1);
  CHECK(testing::eventually([&] {
    return metrics::registry::global()
               .get_gauge("herald_cluster_revoke_notices_pending", "")
               .value() == 0;
  }));
  CHECK(counter("herald_cluster_revoke_notices_failed_total") == failed + 1);  // logged once

  stop_revoke_notifier(*f.system, notifier);
  stop_revoke_notifier(*f.system, peer_notifier);
  caf::anon_send_exit(membership, caf::exit_reason::user_shutdown);
}

}  // namespace herald::identity
