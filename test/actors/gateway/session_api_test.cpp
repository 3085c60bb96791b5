// SPDX-License-Identifier: Apache-2.0
// The session calls the gateway relies on: async open and resume lookup, and the
// subscription list (bug D: a guild listed twice, or after the user left it).

#include <future>

#include <caf/scoped_actor.hpp>

#include "actors/relay/relay_messages.hpp"
#include "test/actors/gateway/gateway_fixture.hpp"

namespace {

using namespace herald;
using namespace herald::gateway_test;

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
  env_with_guilds() : env(dispatch::dispatch_config{}) {
    seed_guild(*env.storage, guild_a, alice, {bob}, {channel_a});
    seed_guild(*env.storage, guild_b, alice, {}, {channel_b});
  }
  services_env env;
};

}  // namespace

TEST_CASE("open_session_async reports the started, registered session") {
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

TEST_CASE("resume_session_async finds a live session and refuses an unknown one") {
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

TEST_CASE("a guild joined again while subscribing is listed once; a left guild is not listed") {
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
