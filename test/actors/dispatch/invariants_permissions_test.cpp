// SPDX-License-Identifier: Apache-2.0
// Invariant 4: a session never receives an event of a guild it is not in, of
// a channel its member cannot VIEW, or content its intents don't grant; it
// gains and loses channels (CHANNEL_CREATE / CHANNEL_DELETE) exactly when its
// visibility changes. Checked against a model: a shadow guild_state that gets
// the same events, with permissions::channel_permissions deciding visibility.
#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "actors/permissions/permissions.hpp"
#include "actors/relay/delivery_observer.hpp"
#include "actors/relay/relay_messages.hpp"
#include "test/actors/dispatch/dispatch_fixture.hpp"
#include "test/testing/visibility_model.hpp"

namespace herald::dispatch_test {
namespace {

constexpr uint64_t guild_id = uint64_t{800} << 22;
constexpr uint64_t owner = 70;
const std::vector<uint64_t> users{71, 72, 73, 74, 75};
const std::vector<uint64_t> roles{guild_id + 100, guild_id + 101, guild_id + 102};

// Last guild order each partition finished delivering (one partition here).
std::atomic<uint64_t> delivered_order{0};
void observe_delivery(uint64_t guild, uint64_t order, size_t) {
  if (guild == guild_id) {
    delivered_order.store(order);
  }
}

struct modelled_session {
  uint64_t user;
  session::intents granted;
  std::unique_ptr<session_probe> probe;
  std::vector<std::string> expected;  // keys of the frames after GUILD_CREATE
};

using testing::frame_key;
using testing::visible_channels_of;

bool wants(const modelled_session& s, session::intents bit) {
  return (s.granted & bit) != 0;
}

class permission_model {
public:
  permission_model(dispatch_env& env, domain::guild_state seed, uint32_t seed_value)
      : env_(env), shadow_(std::move(seed)), rng_(seed_value) {}

  std::vector<modelled_session> sessions;

  void open_sessions() {
    const std::vector<std::pair<uint64_t, session::intents>> specs{
        {owner, session::guilds_intent | session::guild_messages_intent},
        {71,
         session::guilds_intent | session::guild_messages_intent | session::message_content_intent},
        {72, session::guilds_intent | session::guild_messages_intent},
        {72, all_intents},
        {73, session::guild_messages_intent},
        {74, session::guilds_intent},
        {75,
         session::guilds_intent | session::guild_messages_intent | session::guild_members_intent},
    };
    for (const auto& [user, granted] : specs) {
      modelled_session s{
          user, granted, open_subscribed(env_.svc, session_for(user, {guild_id}, granted)), {}};
      // GUILD_CREATE lists exactly the channels the member may view.
      const auto& gc = s.probe->frames().at(1);
      REQUIRE(type_of(gc) == "GUILD_CREATE");
      std::set<uint64_t> listed;
      for (const auto& ch : gc.at("d").at("channels")) {
        listed.insert(std::stoull(ch.at("id").get<std::string>()));
      }
      CHECK(listed == visible_channels_of(shadow_, user));
      sessions.push_back(std::move(s));
    }
  }

  void step() {
    int dice = std::uniform_int_distribution<int>(0, 99)(rng_);
    if (dice < 35) {
      post_message();
    } else if (dice < 50) {
      update_role();
    } else if (dice < 65) {
      update_member();
    } else if (dice < 80) {
      update_channel();
    } else if (dice < 88) {
      create_channel();
    } else if (dice < 93) {
      delete_channel();
    } else {
      type();
    }
  }

  void post_message(uint64_t author = 0, uint64_t channel = 0) {
    if (author == 0) {
      author = any_member();
    }
    if (channel == 0) {
      channel = any_channel();
    }
    std::vector<uint64_t> mentions;
    for (auto u : users) {
      if (std::uniform_int_distribution<int>(0, 5)(rng_) == 0) {
        mentions.push_back(u);
      }
    }
    uint64_t id = next_message_id();
    std::string content = "content of " + std::to_string(id);
    auto ev = message_create(guild_id, channel, author, id, content, mentions);
    auto perms = permissions::channel_permissions(shadow_, channel, author);
    bool may_post = permissions::has(perms, permissions::view_channel | permissions::send_messages);
    auto ack = dispatch::publish(env_.svc, ev, 10s);
    INFO("author " << author << " channel " << channel);
    if (!may_post) {
      REQUIRE_FALSE(ack);
      CHECK(dispatch::is_error(ack.error(), dispatch::dispatch_errc::missing_permission));
      return;
    }
    REQUIRE(ack);
    last_order_ = ack->guild_order;
    ++messages_;
    for (auto& s : sessions) {
      if (!wants(s, session::guild_messages_intent) ||
          visible_channels_of(shadow_, s.user).count(channel) == 0) {
        continue;
      }
      bool full = wants(s, session::message_content_intent) || s.user == author ||
                  std::count(mentions.begin(), mentions.end(), s.user) > 0;
      s.expected.push_back("MESSAGE_CREATE " + std::to_string(id) + " '" +
                           (full ? content : std::string{}) + "'");
    }
  }

  // Publishes the last event (the owner may post anywhere) and waits until
  // the relay has delivered it: every frame of the run is then written.
  void finish() {
    post_message(owner, any_channel());
    REQUIRE(eventually([&] { return delivered_order.load() >= last_order_; }));
  }

  size_t messages() const { return messages_; }

private:
  uint64_t any_member() {
    std::vector<uint64_t> all{owner};
    all.insert(all.end(), users.begin(), users.end());
    return all[std::uniform_int_distribution<size_t>(0, all.size() - 1)(rng_)];
  }
  uint64_t any_channel() {
    const auto& chs = shadow_.channels();
    return chs[std::uniform_int_distribution<size_t>(0, chs.size() - 1)(rng_)].id_;
  }
  bool coin(int one_in = 2) { return std::uniform_int_distribution<int>(0, one_in - 1)(rng_) == 0; }

  std::vector<domain::permission_overwrite> random_overwrites() {
    std::vector<domain::permission_overwrite> out;
    std::set<std::pair<int, uint64_t>> used;
    int n = std::uniform_int_distribution<int>(0, 3)(rng_);
    for (int i = 0; i < n; ++i) {
      domain::permission_overwrite ow;
      int who = std::uniform_int_distribution<int>(0, 5)(rng_);
      if (who == 0) {
        ow.id_ = guild_id;  // @everyone
      } else if (who <= 3) {
        ow.id_ = roles[static_cast<size_t>(who - 1)];
      } else {
        ow.type_ = domain::overwrite_type::member;
        ow.id_ = coin(4) ? owner : users[std::uniform_int_distribution<size_t>(0, 4)(rng_)];
      }
      if (!used.insert({static_cast<int>(ow.type_), ow.id_}).second) {
        continue;
      }
      (coin() ? ow.allow_ : ow.deny_) = permissions::view_channel;
      if (coin(4)) {
        ow.deny_ |= permissions::send_messages;
      }
      out.push_back(ow);
    }
    return out;
  }

  // Applies a state event to the shadow and the system and records the
  // frames each session must get: channel gains/losses, then `dispatch`
  // (a key) to the sessions `receives` selects.
  template <class Receives>
  void state_event(const proto::event& ev, const std::string& dispatch, Receives receives) {
    std::vector<std::set<uint64_t>> before;
    for (auto& s : sessions) {
      before.push_back(visible_channels_of(shadow_, s.user));
    }
    REQUIRE(shadow_.apply(ev) == domain::apply_error::ok);
    auto ack = dispatch::publish(env_.svc, ev, 10s);
    if (!ack) {
      FAIL("publish: " << dispatch::describe(ack.error()));
    }
    last_order_ = ack->guild_order;
    for (size_t i = 0; i < sessions.size(); ++i) {
      auto& s = sessions[i];
      auto after = visible_channels_of(shadow_, s.user);
      if (wants(s, session::guilds_intent)) {
        testing::expect_view_change(before[i], after, s.expected);
      }
      if (!dispatch.empty() && receives(s, after)) {
        s.expected.push_back(dispatch);
      }
    }
  }

  void update_role() {
    size_t pick = std::uniform_int_distribution<size_t>(0, roles.size())(rng_);
    uint64_t id = pick == roles.size() ? guild_id : roles[pick];
    domain::role r = *shadow_.find_role(id);
    r.permissions_ ^= permissions::view_channel;
    if (id == roles[2] && coin(3)) {
      r.permissions_ ^= permissions::administrator;
    }
    state_event(role_update(guild_id, r), "GUILD_ROLE_UPDATE " + std::to_string(id),
                [](const modelled_session& s, const std::set<uint64_t>&) {
                  return wants(s, session::guilds_intent);
                });
  }

  void update_member() {
    uint64_t user = users[std::uniform_int_distribution<size_t>(0, users.size() - 1)(rng_)];
    domain::member m = *shadow_.find_member(user);
    m.role_ids_.clear();
    for (auto r : roles) {
      if (coin()) {
        m.role_ids_.push_back(r);
      }
    }
    state_event(member_update(guild_id, m), "GUILD_MEMBER_UPDATE " + std::to_string(user),
                [](const modelled_session& s, const std::set<uint64_t>&) {
                  return wants(s, session::guild_members_intent);
                });
  }

  void update_channel() {
    domain::channel ch = *shadow_.find_channel(any_channel());
    ch.overwrites_ = random_overwrites();
    uint64_t id = ch.id_;
    state_event(channel_update(guild_id, ch), "CHANNEL_UPDATE " + std::to_string(id),
                [id](const modelled_session& s, const std::set<uint64_t>& after) {
                  return wants(s, session::guilds_intent) && after.count(id) > 0;
                });
  }

  void create_channel() {
    domain::channel ch;
    ch.id_ = guild_id + 1000 + (++created_);
    ch.guild_id_ = guild_id;
    ch.name_ = "created" + std::to_string(created_);
    ch.overwrites_ = random_overwrites();
    state_event(channel_create(guild_id, ch), "",
                [](const modelled_session&, const std::set<uint64_t>&) { return false; });
  }

  void delete_channel() {
    if (shadow_.channels().size() <= 2) {
      return;
    }
    state_event(channel_delete(guild_id, any_channel()), "",
                [](const modelled_session&, const std::set<uint64_t>&) { return false; });
  }

  void type() {
    uint64_t channel = any_channel();
    uint64_t user = any_member();
    auto perms = permissions::channel_permissions(shadow_, channel, user);
    bool may_type = permissions::has(perms, permissions::view_channel | permissions::send_messages);
    auto ack = dispatch::publish(env_.svc, typing_start(guild_id, channel, user), 10s);
    INFO("typist " << user << " channel " << channel);
    if (!may_type) {
      // The guild checks the typist's permissions in the step that applies the event.
      REQUIRE_FALSE(ack);
      CHECK(dispatch::is_error(ack.error(), dispatch::dispatch_errc::missing_permission));
      return;
    }
    REQUIRE(ack);
    last_order_ = ack->guild_order;
    for (auto& s : sessions) {
      if (wants(s, session::guild_message_typing_intent) &&
          visible_channels_of(shadow_, s.user).count(channel) > 0) {
        s.expected.push_back("TYPING_START " + std::to_string(channel) + " " +
                             std::to_string(user));
      }
    }
  }

  dispatch_env& env_;
  domain::guild_state shadow_;
  std::mt19937 rng_;
  uint64_t last_order_ = 0;
  uint64_t created_ = 0;
  size_t messages_ = 0;
};

guild_seed permission_guild() {
  guild_seed seed{guild_id, owner};
  seed.add_role(roles[0], permissions::view_channel | permissions::send_messages)
      .add_role(roles[1], permissions::send_messages)
      .add_role(roles[2], 0);
  seed.add_member(71, {roles[0]})
      .add_member(72, {roles[1]})
      .add_member(73)
      .add_member(74, {roles[0], roles[2]})
      .add_member(75);
  domain::permission_overwrite hide_everyone{guild_id, domain::overwrite_type::role, 0,
                                             permissions::view_channel};
  domain::permission_overwrite show_role{roles[1], domain::overwrite_type::role,
                                         permissions::view_channel, 0};
  domain::permission_overwrite show_member{73, domain::overwrite_type::member,
                                           permissions::view_channel, 0};
  seed.add_channel(guild_id + 1)
      .add_channel(guild_id + 2, {hide_everyone, show_role})
      .add_channel(guild_id + 3, {hide_everyone, show_member});
  return seed;
}

void run_model(uint32_t seed_value, size_t steps) {
  dispatch_env env;
  auto seed = permission_guild();
  seed.save(*env.storage);
  delivered_order.store(0);
  relay::set_delivery_observer(&observe_delivery);
  permission_model model{env, seed.state, seed_value};
  model.open_sessions();
  for (size_t i = 0; i < steps; ++i) {
    model.step();
  }
  model.finish();
  relay::set_delivery_observer(nullptr);
  CHECK(model.messages() > steps / 5);
  for (auto& s : model.sessions) {
    INFO("seed " << seed_value << ", session of user " << s.user << " intents " << s.granted);
    s.probe->drain();
    require_contiguous(s.probe->frames());
    std::vector<std::string> got;
    for (size_t i = 2; i < s.probe->frames().size(); ++i) {
      got.push_back(frame_key(s.probe->frames()[i]));
    }
    INFO(testing::first_difference(got, s.expected));
    CHECK(got == s.expected);
  }
}

}  // namespace

TEST_CASE("sessions_receive_exactly_what_their_member_may_view_under_random_permission_changes") {
  for (uint32_t seed_value : {1u, 2u, 3u}) {
    run_model(seed_value, 150);
  }
}

TEST_CASE("a_session_of_a_non_member_is_refused_and_receives_nothing") {
  dispatch_env env;
  permission_guild().save(*env.storage);
  constexpr uint64_t stranger = 99;
  auto member = open_subscribed(env.svc, session_for(71, {guild_id}));
  auto outsider = open_probe(env.svc, session_for(stranger, {guild_id}));
  REQUIRE(outsider->drain_until_count(1));
  CHECK(type_of(outsider->frames()[0]) == "READY");

  // The relay refuses the subscription with not_member.
  auto relay = env.svc->relays.lookup(guild_id);
  REQUIRE(relay);
  caf::scoped_actor self{*env.system};
  auto probe_output = caf::make_counted<session::session_output>(
      dispatch::next_session_id(), stranger, all_intents, &env.svc->config.session_limits);
  bool refused = false;
  self->request(relay, std::chrono::seconds{10}, relay::subscribe_atom::value, probe_output)
      .receive([](caf::ok_atom) {},
               [&](caf::error& err) {
                 refused = dispatch::is_error(err, dispatch::dispatch_errc::not_member);
               });
  CHECK(refused);
  // The outsider's own session never subscribed.
  std::vector<uint64_t> subs{1};
  self->request(outsider->actor(), std::chrono::seconds{10}, session::subscriptions_atom::value)
      .receive([&](std::vector<uint64_t>& got) { subs = got; }, [](caf::error&) {});
  CHECK(subs.empty());

  for (int i = 0; i < 5; ++i) {
    publish_ok(env.svc, message_create(guild_id, guild_id + 1, owner, next_message_id(), "m"));
  }
  publish_ok(env.svc, channel_create(guild_id, [] {
               domain::channel ch;
               ch.id_ = guild_id + 50;
               ch.guild_id_ = guild_id;
               ch.name_ = "open";
               return ch;
             }()));
  REQUIRE(member->drain_until_count(2 + 6));
  outsider->drain();
  CHECK(outsider->frames().size() == 1);
  CHECK(outsider->buffer().last_seq() == 1);
  CHECK(probe_output->buffer().last_seq() == 0);
}

}  // namespace herald::dispatch_test

namespace herald::dispatch_test {

TEST_CASE("a_removed_member_receives_nothing_more_and_gets_the_guild_again_when_readded") {
  dispatch_env env;
  permission_guild().save(*env.storage);
  constexpr uint64_t leaver = 71;
  auto s = open_subscribed(env.svc, session_for(leaver, {guild_id}));
  auto witness = open_subscribed(env.svc, session_for(owner, {guild_id}));

  proto::event remove;
  remove.set_guild_id(guild_id);
  remove.mutable_guild_member_remove()->set_user_id(leaver);
  publish_ok(env.svc, remove);
  uint64_t unseen = next_message_id();
  publish_ok(env.svc, message_create(guild_id, guild_id + 1, owner, unseen, "after removal"));
  REQUIRE(witness->drain_until([&](const std::vector<json>& f) {
    auto ids = message_ids(f);
    return !ids.empty() && ids.back() == unseen;
  }));
  s->drain();
  // The removal itself (GUILD_MEMBERS), then GUILD_DELETE (GUILDS): the guild is gone for it.
  REQUIRE(s->frames().size() == 4);
  CHECK(type_of(s->frames()[2]) == "GUILD_MEMBER_REMOVE");
  CHECK(type_of(s->frames()[3]) == "GUILD_DELETE");

  proto::event add;
  add.set_guild_id(guild_id);
  add.mutable_guild_member_add()->mutable_member()->set_user_id(leaver);
  add.mutable_guild_member_add()->mutable_member()->set_joined_at(5);
  add.mutable_guild_member_add()->mutable_user()->set_id(leaver);
  add.mutable_guild_member_add()->mutable_user()->set_username("back");
  publish_ok(env.svc, add);
  // The live session is told to subscribe again: a fresh GUILD_CREATE.
  bool resubscribed = s->drain_until(
      [](const std::vector<json>& f) { return count_type(f, "GUILD_CREATE") == 2; }, 10s);
  CHECK(resubscribed);
  if (resubscribed) {
    uint64_t seen = next_message_id();
    publish_ok(env.svc, message_create(guild_id, guild_id + 1, owner, seen, "welcome back"));
    REQUIRE(s->drain_until([&](const std::vector<json>& f) {
      auto ids = message_ids(f);
      return !ids.empty() && ids.back() == seen;
    }));
    CHECK(message_ids(s->frames()) == std::vector<uint64_t>{seen});
  }
  require_contiguous(s->frames());
}

}  // namespace herald::dispatch_test
