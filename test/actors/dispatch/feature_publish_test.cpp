// SPDX-License-Identifier: Apache-2.0
// A feature's custom_dispatch with an actor is checked by the guild in the step that orders it
// (proto/domain.proto custom_dispatch): membership and VIEW_CHANNEL first (missing_access,
// 50001), then the required permission bits (missing_permission, 50013). A refused publish
// dispatches nothing; an overwrite change racing the publish decides by guild order.
#include <future>

#include "actors/dispatch/commands.hpp"
#include "test/actors/dispatch/dispatch_fixture.hpp"

namespace herald::dispatch_test {
namespace {

constexpr uint64_t guild_id = uint64_t{820} << 22;
constexpr uint64_t channel = guild_id + 1;
constexpr uint64_t owner = 90;
constexpr uint64_t reactor = 91;
constexpr uint64_t watcher = 92;
constexpr uint64_t outsider = 93;
constexpr session::intents reactions_intent = 1u << 10;

proto::event feature_event(uint64_t actor, uint64_t required, const std::string& name) {
  proto::event ev;
  ev.set_guild_id(guild_id);
  auto* c = ev.mutable_custom();
  c->set_name(name);
  c->set_channel_id(channel);
  c->set_payload_json("{\"user_id\":\"" + std::to_string(actor) + "\"}");
  c->set_intents(reactions_intent);
  c->set_actor_id(actor);
  c->set_required_permissions(required);
  return ev;
}

/// The Discord code a refused publish shows at REST; 0 when it was ordered.
int code_of(const caf::expected<guild::publish_ack>& r) {
  return r ? 0 : dispatch::client_error_of(r.error()).code;
}

/// `channel` with `reactor`'s member overwrite denying `deny` (none when 0).
domain::channel with_reactor_deny(const guild_seed& seed, permissions::bits deny) {
  domain::channel ch = *seed.state.find_channel(channel);
  if (deny != 0) {
    ch.overwrites_.push_back(
        domain::permission_overwrite{reactor, domain::overwrite_type::member, 0, deny});
  }
  return ch;
}

size_t frames_named(const std::vector<json>& frames, const std::string& name) {
  size_t n = 0;
  for (const auto& f : frames) {
    n += type_of(f) == name ? 1 : 0;
  }
  return n;
}

TEST_CASE("a_feature_publish_with_an_actor_is_refused_without_view_or_the_required_bits") {
  dispatch_env env;
  guild_seed seed{guild_id, owner};
  seed.add_member(reactor).add_member(watcher).add_channel(channel);
  seed.save(*env.storage);
  auto probe =
      open_subscribed(env.svc, session_for(watcher, {guild_id}, all_intents | reactions_intent));
  const auto needed = permissions::add_reactions | permissions::read_message_history;

  CHECK(code_of(dispatch::publish(env.svc, feature_event(reactor, needed, "ALLOWED_1"), 10s)) == 0);
  CHECK(code_of(dispatch::publish(env.svc, feature_event(outsider, 0, "REFUSED"), 10s)) == 50001);

  publish_ok(env.svc,
             channel_update(guild_id, with_reactor_deny(seed, permissions::add_reactions)));
  CHECK(code_of(dispatch::publish(env.svc, feature_event(reactor, needed, "REFUSED"), 10s)) ==
        50013);
  // Bits the event does not require do not matter.
  CHECK(code_of(dispatch::publish(
            env.svc, feature_event(reactor, permissions::read_message_history, "ALLOWED_2"),
            10s)) == 0);

  publish_ok(env.svc, channel_update(guild_id, with_reactor_deny(seed, permissions::view_channel)));
  CHECK(code_of(dispatch::publish(env.svc, feature_event(reactor, 0, "REFUSED"), 10s)) == 50001);
  // The system (actor 0) is not checked.
  CHECK(code_of(dispatch::publish(env.svc, feature_event(0, needed, "ALLOWED_3"), 10s)) == 0);

  // Marker: whatever the guild delivered before it has arrived.
  publish_ok(env.svc, feature_event(0, 0, "MARKER"));
  REQUIRE(probe->drain_until(
      [](const std::vector<json>& f) { return frames_named(f, "MARKER") == 1; }));
  CHECK(frames_named(probe->frames(), "ALLOWED_1") == 1);
  CHECK(frames_named(probe->frames(), "ALLOWED_2") == 1);
  CHECK(frames_named(probe->frames(), "ALLOWED_3") == 1);
  CHECK(frames_named(probe->frames(), "REFUSED") == 0);
}

TEST_CASE("an_overwrite_change_racing_a_feature_publish_decides_by_guild_order") {
  dispatch_env env;
  guild_seed seed{guild_id, owner};
  seed.add_member(reactor).add_channel(channel);
  seed.save(*env.storage);
  const auto allowed = with_reactor_deny(seed, 0);
  const auto denied = with_reactor_deny(seed, permissions::add_reactions);
  int ordered_before = 0;
  int refused_after = 0;
  for (int round = 0; round < 40; ++round) {
    publish_ok(env.svc, channel_update(guild_id, allowed));
    auto revoke = std::async(std::launch::async, [&] {
      return dispatch::publish(env.svc, channel_update(guild_id, denied), 10s);
    });
    auto react = std::async(std::launch::async, [&] {
      return dispatch::publish(env.svc, feature_event(reactor, permissions::add_reactions, "R"),
                               10s);
    });
    auto revoked = revoke.get();
    auto reacted = react.get();
    REQUIRE(revoked);
    if (reacted) {
      // Ordered: it must have come before the revoke in this guild's order.
      CHECK(reacted->guild_order < revoked->guild_order);
      ++ordered_before;
    } else {
      CHECK(dispatch::client_error_of(reacted.error()).code == 50013);
      ++refused_after;
    }
    // Ordered after the revoke, whatever the race: always refused.
    CHECK(code_of(dispatch::publish(
              env.svc, feature_event(reactor, permissions::add_reactions, "LATE"), 10s)) == 50013);
  }
  CHECK(ordered_before + refused_after == 40);
}

}  // namespace
}  // namespace herald::dispatch_test
