// SPDX-License-Identifier: Apache-2.0
// The dispatch API's session calls the gateway relies on: async open and resume lookup, and the
// session's subscription list (bug D: a guild listed twice, or after the user left it).

#include <algorithm>
#include <future>

#include <caf/scoped_actor.hpp>

#include "actors/relay/relay_messages.hpp"
#include "test/actors/dispatch/dispatch_fixture.hpp"

namespace {

using namespace herald;
using namespace herald::dispatch_test;

constexpr uint64_t alice = 100;
constexpr uint64_t bob = 101;
constexpr uint64_t guild_a = (uint64_t{1} << 22) | 7;
constexpr uint64_t guild_b = (uint64_t{2} << 22) | 7;
constexpr uint64_t channel_a = guild_a + 1;
constexpr uint64_t channel_b = guild_b + 1;

session::session_params params_for(uint64_t user, std::vector<uint64_t> guilds) {
  session::session_params p;
  p.user = domain::user{user, "user" + std::to_string(user), false};
  p.granted = session::guilds_intent | session::guild_messages_intent;
  p.guild_ids = std::move(guilds);
  return p;
}

caf::expected<dispatch::opened_session> open_async(const dispatch::services_ptr& svc,
                                                   session::session_params p) {
  std::promise<caf::expected<dispatch::opened_session>> done;
  auto fut = done.get_future();
  dispatch::open_session_async(
      svc, std::move(p), 5s,
      [&done](caf::expected<dispatch::opened_session> r) { done.set_value(std::move(r)); });
  REQUIRE(fut.wait_for(10s) == std::future_status::ready);
  return fut.get();
}

std::vector<uint64_t> subscriptions(caf::actor_system& sys, const caf::actor& session) {
  caf::scoped_actor self{sys};
  std::vector<uint64_t> out;
  self->request(session, 5s, session::subscriptions_atom::value)
      .receive([&](std::vector<uint64_t>& subs) { out = std::move(subs); },
               [&](caf::error& err) { FAIL("subscriptions: " << caf::to_string(err)); });
  return out;
}

struct env_with_guilds {
  env_with_guilds() {
    guild_seed(guild_a, alice).add_member(bob).add_channel(channel_a).save(*env.storage);
    guild_seed(guild_b, alice).add_channel(channel_b).save(*env.storage);
  }
  dispatch_env env;
};

}  // namespace

TEST_CASE("open_session_async_reports_the_started_registered_session") {
  env_with_guilds e;
  auto opened = open_async(e.env.svc, params_for(bob, {guild_a}));
  REQUIRE(opened);
  CHECK(opened->actor);
  CHECK(opened->output->user_id() == bob);
  // READY is the session's first frame (written when the actor first runs).
  CHECK(eventually([&] { return opened->output->buffer().last_seq() >= 1; }));
  CHECK(e.env.svc->sessions.lookup(opened->output->session_id()) == opened->actor);
  caf::anon_send(opened->actor, session::close_atom::value);
}

TEST_CASE("resume_session_async_finds_a_live_session_and_refuses_an_unknown_one") {
  env_with_guilds e;
  auto opened = open_async(e.env.svc, params_for(bob, {guild_a}));
  REQUIRE(opened);
  auto find = [&](uint64_t id) {
    std::promise<caf::expected<dispatch::opened_session>> done;
    auto fut = done.get_future();
    dispatch::resume_session_async(
        e.env.svc, id, 5s,
        [&done](caf::expected<dispatch::opened_session> r) { done.set_value(std::move(r)); });
    REQUIRE(fut.wait_for(10s) == std::future_status::ready);
    return fut.get();
  };
  auto found = find(opened->output->session_id());
  REQUIRE(found);
  CHECK(found->output == opened->output);
  CHECK(found->actor == opened->actor);
  CHECK_FALSE(find(opened->output->session_id() + 12345));
  caf::anon_send(opened->actor, session::close_atom::value);
}

TEST_CASE("a_guild_joined_again_while_subscribing_is_listed_once_a_left_guild_is_not_listed") {
  env_with_guilds e;
  auto opened = open_async(e.env.svc, params_for(alice, {guild_a, guild_b}));
  REQUIRE(opened);
  auto& sys = *e.env.system;
  // Joins racing the initial subscriptions (bug D listed guild_a twice).
  caf::anon_send(opened->actor, session::join_guild_atom::value, guild_a);
  caf::anon_send(opened->actor, session::join_guild_atom::value, guild_a);
  REQUIRE(eventually([&] { return subscriptions(sys, opened->actor).size() == 2; }));
  std::this_thread::sleep_for(200ms);  // any stale subscribe reply lands by now
  auto subs = subscriptions(sys, opened->actor);
  std::sort(subs.begin(), subs.end());
  CHECK(subs == std::vector<uint64_t>{guild_a, guild_b});
  caf::anon_send(opened->actor, session::leave_guild_atom::value, guild_b);
  REQUIRE(eventually([&] { return subscriptions(sys, opened->actor).size() == 1; }));
  CHECK(subscriptions(sys, opened->actor) == std::vector<uint64_t>{guild_a});
  caf::anon_send(opened->actor, session::close_atom::value);
}

TEST_CASE("session_ids_carry_the_node_id_and_never_collide_across_nodes") {
  std::vector<uint64_t> ids;
  for (unsigned node : {0u, 1u, 7u, 1023u}) {
    for (int i = 0; i < 1000; ++i) {
      auto id = dispatch::next_session_id(node);
      REQUIRE(dispatch::node_id_of_session(id) == node);
      ids.push_back(id);
    }
  }
  std::sort(ids.begin(), ids.end());
  CHECK(std::adjacent_find(ids.begin(), ids.end()) == ids.end());
}
