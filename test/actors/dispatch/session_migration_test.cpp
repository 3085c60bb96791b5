// SPDX-License-Identifier: Apache-2.0
// A session handed over (docs/cluster.md, "Session migration"), in one process: the session
// actor refuses while connected on a node that does not drain, else leaves its relays, names
// each guild's cursor and answers its frames after the client's seq; the wire types survive
// CAF's binary serialisation under their names; the session started from the reply continues
// the seq, replays what the client had not received, gets no second READY or GUILD_CREATE, and
// receives the events ordered meanwhile (from the partition's recent events) and after.
#include <future>
#include <string>
#include <vector>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/dispatch/session_migration.hpp"
#include "actors/session/migrate_wire.hpp"
#include "test/actors/dispatch/dispatch_fixture.hpp"

namespace {

using namespace herald;
using namespace herald::dispatch_test;
using session::migrate_wire::migrate_reply;
using session::migrate_wire::migrate_request;

constexpr uint64_t alice = 100;
constexpr uint64_t guild_a = (uint64_t{1} << 22) | 7;
constexpr uint64_t guild_b = (uint64_t{2} << 22) | 7;
constexpr uint64_t channel_a = guild_a + 1;

/// `x` through CAF's binary serialisation in a system that knows the migrate wire types.
template <class T>
T over_the_wire(T x) {
  caf::actor_system_config cfg;
  session::migrate_wire::announce_migrate_wire_types(cfg);
  caf::actor_system sys{cfg};
  auto msg = caf::make_message(std::move(x));
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  REQUIRE(!sink(msg));  // fails for a type the system does not know by name
  caf::message back;
  caf::binary_deserializer source{sys, buf};
  REQUIRE(!source(back));
  REQUIRE(back.match_elements<T>());
  return back.get_as<T>(0);
}

caf::expected<migrate_reply> ask_migrate(caf::actor_system& sys, const caf::actor& session,
                                         uint64_t user, uint64_t seq, bool draining) {
  caf::scoped_actor self{sys};
  caf::expected<migrate_reply> out{caf::sec::request_timeout};
  self->request(session, 5s, session::migrate_atom::value, user, seq, draining)
      .receive([&](migrate_reply& r) { out = std::move(r); },
               [&](caf::error& err) { out = std::move(err); });
  return out;
}

std::vector<std::string> contents(const std::vector<json>& frames) {
  std::vector<std::string> out;
  for (const auto& f : frames) {
    if (type_of(f) == "MESSAGE_CREATE") {
      out.push_back(f.at("d").value("content", ""));
    }
  }
  return out;
}

void post(const dispatch::services_ptr& svc, const std::string& text) {
  publish_ok(svc, message_create(guild_a, channel_a, alice, next_message_id(), text));
}

}  // namespace

TEST_CASE("migrate_wire_types_keep_their_fields_on_the_wire_and_replies_are_checked") {
  migrate_request req{(uint64_t{3} << 54) | 9, alice, 41, 2};
  auto req_back = over_the_wire(req);
  CHECK(req_back.session_id == req.session_id);
  CHECK(req_back.user_id == alice);
  CHECK(req_back.seq == 41);
  CHECK(req_back.asker == 2);

  migrate_reply r;
  r.session_id = req.session_id;
  r.user_id = alice;
  r.granted = 513;
  r.sharded = true;
  r.shard_id = 1;
  r.shard_count = 4;
  r.guild_ids = {guild_a, guild_b};
  r.cursor_guilds = {guild_a};
  r.cursor_orders = {17};
  r.frames.push_back({session::shared_tail{",\"t\":\"X\",\"d\":{}}"}});
  r.next_seq = 43;
  auto back = over_the_wire(r);
  CHECK(back.granted == 513);
  CHECK(back.sharded);
  CHECK(back.shard_count == 4);
  CHECK(back.guild_ids == r.guild_ids);
  CHECK(back.cursor_orders == std::vector<uint64_t>{17});
  REQUIRE(back.frames.size() == 1);
  CHECK(back.frames[0].view() == ",\"t\":\"X\",\"d\":{}}");
  CHECK(session::migrate_wire::valid_reply(req, back));

  auto params = dispatch::migrated_params(back);
  CHECK(params.migrated);
  CHECK(params.shard == std::optional<std::array<uint32_t, 2>>{std::array<uint32_t, 2>{1, 4}});
  CHECK(params.cursors == std::vector<std::pair<uint64_t, uint64_t>>{{guild_a, 17}});

  auto wrong = back;
  wrong.next_seq = 50;  // frames that do not end right before next_seq
  CHECK_FALSE(session::migrate_wire::valid_reply(req, wrong));
  wrong = back;
  wrong.user_id = alice + 1;
  CHECK_FALSE(session::migrate_wire::valid_reply(req, wrong));
  wrong = back;
  wrong.cursor_guilds = {guild_a + 99};  // a cursor for a guild the session does not have
  CHECK_FALSE(session::migrate_wire::valid_reply(req, wrong));
}

TEST_CASE("a_session_handed_over_continues_its_seq_and_each_guild_after_its_cursor") {
  dispatch::dispatch_config dc;
  dc.relay_recent_events = 16;
  dispatch_env env{dc};
  guild_seed(guild_a, alice).add_channel(channel_a).save(*env.storage);
  guild_seed(guild_b, alice).save(*env.storage);
  auto& sys = *env.system;
  auto probe = open_subscribed(env.svc, session_for(alice, {guild_a, guild_b}));
  for (int i = 0; i < 3; ++i) {
    post(env.svc, "m" + std::to_string(i));
  }
  REQUIRE(probe->drain_until([](const auto& f) { return contents(f).size() == 3; }));
  auto id = probe->output()->session_id();
  // The client received everything but m2.
  uint64_t seq = seq_of(probe->frames()[probe->frames().size() - 2]);

  // Connected on a node that does not drain: refused, nothing changed.
  CHECK_FALSE(ask_migrate(sys, probe->actor(), alice, seq, false));
  CHECK_FALSE(ask_migrate(sys, probe->actor(), alice + 1, seq, true));  // not the user's
  CHECK(env.svc->sessions.lookup(id) == probe->actor());

  probe->detach();
  caf::anon_send(probe->actor(), session::disconnected_atom::value);
  auto reply = ask_migrate(sys, probe->actor(), alice, seq, false);
  REQUIRE(reply);
  CHECK(reply->frames.size() == 1);  // m2
  CHECK(reply->next_seq == seq + 2);
  CHECK(reply->guild_ids.size() == 2);
  CHECK(reply->cursor_guilds.size() == 2);
  CHECK(probe->output()->closed());
  CHECK(eventually([&] { return !env.svc->sessions.lookup(id); }));

  // Ordered while the session was in flight: the partition is ahead of the cursor.
  post(env.svc, "m3");
  post(env.svc, "m4");

  auto back = over_the_wire(std::move(*reply));
  std::promise<caf::expected<dispatch::opened_session>> done;
  auto fut = done.get_future();
  dispatch::start_session_async(
      env.svc, dispatch::migrated_params(back), dispatch::migrated_output(env.svc, back), 5s,
      [&done](caf::expected<dispatch::opened_session> r) { done.set_value(std::move(r)); });
  REQUIRE(fut.wait_for(10s) == std::future_status::ready);
  auto opened = fut.get();
  REQUIRE(opened);
  CHECK(opened->migrated);
  CHECK(opened->output->session_id() == id);
  session_probe moved{*opened, false};
  REQUIRE(moved.attach_resumed(seq) == session::resume_status::ok);
  REQUIRE(moved.drain_until([](const auto& f) { return contents(f).size() == 3; }));
  post(env.svc, "m5");
  REQUIRE(moved.drain_until([](const auto& f) { return contents(f).size() == 4; }));
  CHECK(contents(moved.frames()) == std::vector<std::string>{"m2", "m3", "m4", "m5"});
  uint64_t expected = seq + 1;
  for (const auto& f : moved.frames()) {
    CHECK(seq_of(f) == expected++);  // gapless, continuing the client's seq
    CHECK(type_of(f) != "READY");
    CHECK(type_of(f) != "GUILD_CREATE");
  }
  CHECK(env.svc->sessions.lookup(id) == opened->actor);
  caf::anon_send(opened->actor, session::close_atom::value);
}
