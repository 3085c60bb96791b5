// SPDX-License-Identifier: Apache-2.0
// Edits and deletes are checked in Discord's order by the guild step that applies them:
// VIEW_CHANNEL first (50001, so a hidden channel never reveals whether a message exists),
// then existence (10008), then authorship (50005) or MANAGE_MESSAGES (50013). An author who
// lost VIEW_CHANNEL can neither edit nor delete their own messages, and no viewer receives an
// event for a refused edit or delete.
#include <future>

#include "actors/dispatch/commands.hpp"
#include "test/actors/dispatch/dispatch_fixture.hpp"

namespace herald::dispatch_test {
namespace {

constexpr uint64_t guild_id = uint64_t{810} << 22;
constexpr uint64_t channel = guild_id + 1;
constexpr uint64_t owner = 80;
constexpr uint64_t author = 81;
constexpr uint64_t viewer = 82;
constexpr uint64_t moderator = 83;
constexpr uint64_t mod_role = guild_id + 100;

/// The HTTP-visible outcome of a command: 200 or 204 when it succeeded, else the Discord code.
int outcome_of(const std::function<void(dispatch::command_callback)>& run) {
  std::promise<int> result;
  run([&result](caf::expected<dispatch::command_result> r) {
    result.set_value(r ? 0 : dispatch::client_error_of(r.error()).code);
  });
  return result.get_future().get();
}

int edit(dispatch_env& env, uint64_t user, uint64_t message) {
  return outcome_of([&](dispatch::command_callback done) {
    dispatch::edit_message(env.svc, channel, message, user, "edited by " + std::to_string(user),
                           10s, std::move(done));
  });
}

int remove(dispatch_env& env, uint64_t user, uint64_t message) {
  return outcome_of([&](dispatch::command_callback done) {
    dispatch::delete_message(env.svc, channel, message, user, 10s, std::move(done));
  });
}

TEST_CASE("edit_and_delete_check_view_channel_then_existence_then_authorship") {
  dispatch_env env;
  guild_seed seed{guild_id, owner};
  seed.add_role(mod_role, permissions::view_channel | permissions::manage_messages)
      .add_member(author)
      .add_member(viewer)
      .add_member(moderator, {mod_role})
      .add_channel(channel);
  seed.save(*env.storage);
  auto watcher = open_subscribed(env.svc, session_for(viewer, {guild_id}, all_intents));

  uint64_t first = next_message_id();
  uint64_t second = next_message_id();
  publish_ok(env.svc, message_create(guild_id, channel, author, first, "first"));
  publish_ok(env.svc, message_create(guild_id, channel, author, second, "second"));
  uint64_t missing = next_message_id();

  SECTION("while the author may view the channel") {
    CHECK(edit(env, author, first) == 0);
    CHECK(edit(env, author, missing) == 10008);
    CHECK(edit(env, viewer, first) == 50005);
    CHECK(edit(env, moderator, first) == 50005);  // MANAGE_MESSAGES does not allow edits
    CHECK(remove(env, viewer, first) == 50013);
    CHECK(remove(env, viewer, missing) == 10008);
    CHECK(remove(env, moderator, first) == 0);
    CHECK(remove(env, author, second) == 0);
  }

  SECTION("after the author lost VIEW_CHANNEL") {
    domain::channel hidden = *seed.state.find_channel(channel);
    hidden.overwrites_.push_back(domain::permission_overwrite{
        author, domain::overwrite_type::member, 0, permissions::view_channel});
    publish_ok(env.svc, channel_update(guild_id, hidden));

    CHECK(edit(env, author, first) == 50001);
    CHECK(remove(env, author, first) == 50001);
    // Existence does not leak: an unknown message in a hidden channel is 50001 as well.
    CHECK(edit(env, author, missing) == 50001);
    CHECK(remove(env, author, missing) == 50001);

    // The same checks hold for events published directly (the guild's step, not the command).
    proto::event ev;
    ev.set_guild_id(guild_id);
    auto* m = ev.mutable_message_update();
    m->set_id(first);
    m->set_channel_id(channel);
    m->set_author_id(author);
    m->set_content("sneaky");
    auto ack = dispatch::publish(env.svc, ev, 10s);
    REQUIRE_FALSE(ack);
    CHECK(dispatch::client_error_of(ack.error()).code == 50001);

    // A moderator still deletes it; the viewer gets the delete and never an update.
    CHECK(remove(env, moderator, first) == 0);
    REQUIRE(watcher->drain_until([&](const std::vector<json>& frames) {
      return std::any_of(frames.begin(), frames.end(),
                         [](const json& f) { return type_of(f) == "MESSAGE_DELETE"; });
    }));
    std::vector<std::string> types;
    for (size_t i = 2; i < watcher->frames().size(); ++i) {
      types.push_back(type_of(watcher->frames()[i]));
    }
    CHECK(types == std::vector<std::string>{"MESSAGE_CREATE", "MESSAGE_CREATE", "CHANNEL_UPDATE",
                                            "MESSAGE_DELETE"});
    CHECK(watcher->frames().back().at("d").at("id") == std::to_string(first));
  }
}

}  // namespace
}  // namespace herald::dispatch_test
