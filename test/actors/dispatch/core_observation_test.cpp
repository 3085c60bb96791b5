// SPDX-License-Identifier: Apache-2.0
// Core event observation (actors/services/core_events.hpp): observers get each committed event
// of their kinds once, in guild order, each right after the acks of the events ordered before
// it; a feature event about a message is refused once a delete of it is ordered, after the
// actor's access check (Discord's order: 50001 before 10008).
#include <future>
#include <mutex>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/dispatch/commands.hpp"
#include "actors/services/core_events.hpp"
#include "test/actors/dispatch/dispatch_fixture.hpp"

namespace herald::dispatch_test {
namespace {

constexpr uint64_t guild_id = uint64_t{830} << 22;
constexpr uint64_t channel = guild_id + 1;
constexpr uint64_t hidden = guild_id + 2;
constexpr uint64_t doomed = guild_id + 3;
constexpr uint64_t owner = 70;
constexpr uint64_t member = 71;
constexpr uint64_t leaver = 72;
constexpr uint64_t role_id = guild_id + 9;

using dispatch::core_event;
using dispatch::core_event_kind;

constexpr dispatch::core_event_mask every_kind =
    dispatch::mask_of(core_event_kind::message_delete) |
    dispatch::mask_of(core_event_kind::channel_delete) |
    dispatch::mask_of(core_event_kind::member_remove) |
    dispatch::mask_of(core_event_kind::role_update) |
    dispatch::mask_of(core_event_kind::role_delete);

guild_seed seeded(dispatch_env& env) {
  guild_seed seed{guild_id, owner};
  seed.add_role(role_id, permissions::view_channel)
      .add_member(member)
      .add_member(leaver)
      .add_channel(channel)
      .add_channel(hidden, {domain::permission_overwrite{guild_id, domain::overwrite_type::role, 0,
                                                         permissions::view_channel}})
      .add_channel(doomed);
  seed.save(*env.storage);
  return seed;
}

proto::event message_delete(uint64_t channel_id, uint64_t message_id, uint64_t actor = 0) {
  proto::event ev;
  ev.set_guild_id(guild_id);
  auto* d = ev.mutable_message_delete();
  d->set_id(message_id);
  d->set_channel_id(channel_id);
  d->set_actor_id(actor);
  return ev;
}

proto::event about_message(uint64_t channel_id, uint64_t message_id, uint64_t actor) {
  proto::event ev;
  ev.set_guild_id(guild_id);
  auto* c = ev.mutable_custom();
  c->set_name("FEATURE_EVENT");
  c->set_channel_id(channel_id);
  c->set_payload_json("{}");
  c->set_actor_id(actor);
  c->set_message_id(message_id);
  return ev;
}

int code_of(const caf::expected<guild::publish_ack>& r) {
  return r ? 0 : dispatch::client_error_of(r.error()).code;
}

struct recorder {
  std::mutex mutex;
  std::vector<core_event> events;
  size_t size() {
    std::lock_guard<std::mutex> guard{mutex};
    return events.size();
  }
};

TEST_CASE("an_observer_gets_each_committed_core_event_of_its_kinds_once_in_guild_order") {
  dispatch_env env;
  auto seed = seeded(env);
  auto rec = std::make_shared<recorder>();
  env.svc->observers.add("test", every_kind, [rec](const core_event& ev) {
    std::lock_guard<std::mutex> guard{rec->mutex};
    rec->events.push_back(ev);
  });
  const uint64_t m1 = next_message_id();
  publish_ok(env.svc, message_create(guild_id, channel, owner, m1, "one"));  // not observable
  auto deleted = publish_ok(env.svc, message_delete(channel, m1));
  domain::role changed = *seed.state.find_role(role_id);
  changed.permissions_ |= permissions::send_messages;
  auto updated = publish_ok(env.svc, role_update(guild_id, changed));
  proto::event leave;
  leave.set_guild_id(guild_id);
  leave.mutable_guild_member_remove()->set_user_id(leaver);
  auto left = publish_ok(env.svc, leave);
  auto dropped = publish_ok(env.svc, channel_delete(guild_id, doomed));
  // Refused events are not observed.
  CHECK_FALSE(dispatch::publish(env.svc, message_delete(channel, m1 + 999), 10s));

  REQUIRE(eventually([&] { return rec->size() >= 4; }));
  std::lock_guard<std::mutex> guard{rec->mutex};
  REQUIRE(rec->events.size() == 4);
  const auto& e = rec->events;
  CHECK(e[0].kind == core_event_kind::message_delete);
  CHECK(e[0].channel_id == channel);
  CHECK(e[0].message_ids == std::vector<uint64_t>{m1});
  CHECK(e[0].guild_order == deleted.guild_order);
  CHECK(e[1].kind == core_event_kind::role_update);
  CHECK(e[1].role_id == role_id);
  CHECK(e[1].guild_order == updated.guild_order);
  CHECK(e[2].kind == core_event_kind::member_remove);
  CHECK(e[2].user_id == leaver);
  CHECK(e[2].guild_order == left.guild_order);
  CHECK(e[3].kind == core_event_kind::channel_delete);
  CHECK(e[3].channel_id == doomed);
  CHECK(e[3].guild_order == dropped.guild_order);
  for (const auto& ev : e) {
    CHECK(ev.guild_id == guild_id);
  }
  CHECK(std::string{dispatch::name_of(core_event_kind::member_remove)} == "GUILD_MEMBER_REMOVE");
}

TEST_CASE("observers_get_only_their_kinds_and_none_registered_means_none_delivered") {
  dispatch_env env;
  seeded(env);
  CHECK(env.svc->observers.mask() == 0);
  auto rec = std::make_shared<recorder>();
  env.svc->observers.add("deletes only", dispatch::mask_of(core_event_kind::channel_delete),
                         [rec](const core_event& ev) {
                           std::lock_guard<std::mutex> guard{rec->mutex};
                           rec->events.push_back(ev);
                         });
  CHECK(env.svc->observers.mask() == dispatch::mask_of(core_event_kind::channel_delete));
  const uint64_t m = next_message_id();
  publish_ok(env.svc, message_create(guild_id, channel, owner, m, "x"));
  publish_ok(env.svc, message_delete(channel, m));
  publish_ok(env.svc, channel_delete(guild_id, doomed));
  REQUIRE(eventually([&] { return rec->size() >= 1; }));
  // The channel delete was ordered after the message delete: had the message delete been
  // delivered, it would be here by now.
  std::lock_guard<std::mutex> guard{rec->mutex};
  REQUIRE(rec->events.size() == 1);
  CHECK(rec->events[0].kind == core_event_kind::channel_delete);
}

// A feature actor: requests `n` publishes of its own at once and records, in mailbox order,
// the guild order of every ack and of every observed event the observer sends it.
using record_atom = caf::atom_constant<caf::atom("record")>;
using go_atom = caf::atom_constant<caf::atom("go")>;

struct feature_probe_state {
  std::vector<uint64_t> seen;
  size_t acks = 0;
};

caf::behavior feature_probe(caf::stateful_actor<feature_probe_state>* self, caf::actor guild) {
  return {
      [self, guild](go_atom, int n) {
        for (int i = 0; i < n; ++i) {
          proto::event ev;
          ev.set_guild_id(guild_id);
          auto* c = ev.mutable_custom();
          c->set_name("FEATURE_EVENT");
          c->set_channel_id(channel);
          c->set_payload_json("{}");
          self->request(guild, 10s, guild::publish_atom::value, ev)
              .then([self](guild::publish_ack& ack) {
                self->state.seen.push_back(ack.guild_order);
                ++self->state.acks;
              });
        }
      },
      [self](const core_event& ev) { self->state.seen.push_back(ev.guild_order); },
      [self](record_atom) { return std::make_pair(self->state.acks, self->state.seen); },
  };
}

TEST_CASE("an_observed_event_reaches_a_feature_actor_after_the_acks_of_earlier_events") {
  dispatch_env env;
  seeded(env);
  constexpr int publishes = 300;
  constexpr int deletes = 60;
  std::vector<uint64_t> messages;
  for (int i = 0; i < deletes; ++i) {
    messages.push_back(next_message_id());
    publish_ok(env.svc, message_create(guild_id, channel, owner, messages.back(), "m"));
  }
  auto guild = env.svc->guilds.lookup(guild_id);
  REQUIRE(guild);
  auto probe = env.system->spawn(feature_probe, guild);
  env.svc->observers.add("probe", dispatch::mask_of(core_event_kind::message_delete),
                         [probe](const core_event& ev) { caf::anon_send(probe, ev); });
  // Deletes race the probe's publishes, so group commits mix them.
  auto deleter = std::async(std::launch::async, [&] {
    for (auto m : messages) {
      publish_ok(env.svc, message_delete(channel, m));
    }
  });
  caf::anon_send(probe, go_atom::value, publishes);
  deleter.get();
  caf::scoped_actor self{*env.system};
  std::pair<size_t, std::vector<uint64_t>> record;
  REQUIRE(eventually([&] {
    self->request(probe, 10s, record_atom::value)
        .receive([&](std::pair<size_t, std::vector<uint64_t>>& r) { record = std::move(r); },
                 [](caf::error&) {});
    return record.first == publishes && record.second.size() == publishes + deletes;
  }));
  const auto& seen = record.second;
  for (size_t i = 1; i < seen.size(); ++i) {
    INFO("position " << i);
    REQUIRE(seen[i - 1] < seen[i]);
  }
  caf::anon_send_exit(probe, caf::exit_reason::user_shutdown);
}

TEST_CASE("a_feature_event_about_a_message_checks_access_first_then_that_it_exists") {
  dispatch_env env;
  seeded(env);
  const uint64_t m = next_message_id();
  const uint64_t secret = next_message_id();
  publish_ok(env.svc, message_create(guild_id, channel, owner, m, "visible"));
  publish_ok(env.svc, message_create(guild_id, hidden, owner, secret, "secret"));

  CHECK(code_of(dispatch::publish(env.svc, about_message(channel, m, member), 10s)) == 0);
  // A channel the actor cannot view answers 50001 whether or not the message exists.
  CHECK(code_of(dispatch::publish(env.svc, about_message(hidden, secret, member), 10s)) == 50001);
  CHECK(code_of(dispatch::publish(env.svc, about_message(hidden, secret + 999, member), 10s)) ==
        50001);
  CHECK(code_of(dispatch::publish(env.svc, about_message(hidden, secret, owner), 10s)) == 0);
  // Unknown, elsewhere, deleted: 10008.
  CHECK(code_of(dispatch::publish(env.svc, about_message(channel, m + 999, member), 10s)) == 10008);
  CHECK(code_of(dispatch::publish(env.svc, about_message(channel, secret, owner), 10s)) == 10008);
  publish_ok(env.svc, message_delete(channel, m));
  CHECK(code_of(dispatch::publish(env.svc, about_message(channel, m, member), 10s)) == 10008);
}

TEST_CASE("a_feature_event_ordered_after_an_uncommitted_delete_of_its_message_is_refused") {
  dispatch_env env;
  seeded(env);
  const uint64_t m = next_message_id();
  publish_ok(env.svc, message_create(guild_id, channel, owner, m, "soon gone"));
  env.storage->close_commits();
  auto deleting = std::async(std::launch::async, [&] {
    return dispatch::publish(env.svc, message_delete(channel, m), 10s);
  });
  REQUIRE(eventually([&] { return env.storage->commits_waiting() == 1; }));
  // The store still has the message, but its delete is ordered first.
  REQUIRE(env.storage->get_message(m).value().deleted_ == false);
  auto refused = dispatch::publish(env.svc, about_message(channel, m, member), 10s);
  env.storage->open_commits();
  CHECK(code_of(refused) == 10008);
  CHECK(deleting.get());
}

}  // namespace

// Observers hold the services (a feature's state, its publisher) and the services hold the
// observers: stop_services must drop them, or the services, their writer and the store are never
// freed (LeakSanitizer caught this in every feature test).
TEST_CASE("stopping_the_services_drops_observers_that_hold_them") {
  dispatch_env env;
  std::weak_ptr<dispatch::services> weak = env.svc;
  env.svc->observers.add("holder", every_kind, [held = env.svc](const core_event&) { (void)held; });
  CHECK(env.svc->observers.mask() == every_kind);
  dispatch::stop_services(env.svc);
  CHECK(env.svc->observers.mask() == 0);
  env.svc.reset();
  CHECK(weak.expired());
}

}  // namespace herald::dispatch_test
