// SPDX-License-Identifier: Apache-2.0
// Pins over REST on the real core (herald::testing sandbox): the current and legacy routes,
// CHANNEL_PINS_UPDATE to the sessions that may view the channel, `pinned` in message objects,
// Discord's refusals in Discord's order with nothing dispatched, and the 50-pin limit.
#include "features/pins/test/pins_fixture.hpp"

namespace herald::pins_test {

TEST_CASE("a_pin_dispatches_channel_pins_update_and_shows_in_every_read") {
  pins_env env;
  auto bob_session = env.box.open_session(bob, {guild});
  auto m = env.post(general, "pin me");
  env.pin(alice, general, m);

  auto update = bob_session->wait_for("CHANNEL_PINS_UPDATE");
  REQUIRE(update);
  CHECK((*update)["d"]["guild_id"] == id(guild));
  CHECK((*update)["d"]["channel_id"] == id(general));
  auto stamp = (*update)["d"]["last_pin_timestamp"].get<std::string>();
  CHECK(domain::parse_iso8601(stamp));

  auto listed = env.pins(bob, general);
  REQUIRE(listed["items"].size() == 1);
  CHECK(listed["has_more"] == false);
  CHECK(listed["items"][0]["pinned_at"] == stamp);
  CHECK(listed["items"][0]["message"]["id"] == id(m));
  CHECK(listed["items"][0]["message"]["pinned"] == true);
  auto old_style = env.box.rest(bob, "GET", "/channels/" + id(general) + "/pins").json();
  REQUIRE(old_style.size() == 1);
  CHECK(old_style[0]["id"] == id(m));
  auto one = env.box.rest(bob, "GET", "/channels/" + id(general) + "/messages/" + id(m)).json();
  CHECK(one["pinned"] == true);

  // A repeat answers 204 and dispatches nothing; unpinning (legacy route) dispatches again.
  env.pin(alice, general, m);
  auto r = env.box.rest(alice, "DELETE", "/channels/" + id(general) + "/pins/" + id(m));
  CHECK(r.status == 204);
  auto marker = env.post(general, "marker");
  REQUIRE(saw_message(*bob_session, marker));
  auto updates = bob_session->of_type("CHANNEL_PINS_UPDATE");
  REQUIRE(updates.size() == 2);
  CHECK(updates[1]["d"]["last_pin_timestamp"].is_null());
  CHECK(env.pins(bob, general)["items"].empty());
}

TEST_CASE("refusals_follow_discords_order_and_dispatch_nothing") {
  pins_env env;
  auto owner_session = env.box.open_session(owner, {guild});
  auto m = env.post(general);
  auto secret = env.post(staff);
  auto expect = [&](uint64_t user, uint64_t channel, uint64_t message, unsigned status, int code) {
    auto r = env.box.rest(user, "PUT", pin_path(channel, message));
    INFO("user " << user << " PUT " << pin_path(channel, message) << " -> " << r.body);
    CHECK(r.status == status);
    CHECK(code_of(r) == code);
  };
  expect(bob, staff, secret, 403, 50001);   // no VIEW_CHANNEL: before existence
  expect(bob, staff, 12345, 403, 50001);    // ... so a hidden channel leaks nothing
  expect(bob, general, 12345, 404, 10008);  // the message, before PIN_MESSAGES
  expect(bob, general, m, 403, 50013);      // no PIN_MESSAGES
  expect(carol, general, m, 403, 50013);    // MANAGE_MESSAGES alone no longer pins
  expect(alice, general + 99, m, 404, 10003);
  env.pin(alice, general, m);
  expect(bob, general, m, 403, 50013);  // already pinned: still refused, not 204
  CHECK(env.box.rest(bob, "DELETE", pin_path(general, m)).status == 403);
  auto bad = env.box.rest(alice, "GET", pins_path(general) + "?limit=51");
  CHECK(bad.status == 400);
  CHECK(code_of(bad) == 50035);

  auto marker = env.post(general, "marker");
  REQUIRE(saw_message(*owner_session, marker));
  CHECK(owner_session->of_type("CHANNEL_PINS_UPDATE").size() == 1);  // alice's pin only
}

TEST_CASE("a_channel_holds_at_most_fifty_pins_and_lists_them_newest_first_by_page") {
  pins_env env;
  std::vector<uint64_t> messages;
  for (int i = 0; i < 51; ++i) {
    messages.push_back(env.post(general, "m" + std::to_string(i)));
  }
  for (int i = 0; i < 50; ++i) {
    env.pin(alice, general, messages[i]);
  }
  auto full = env.box.rest(alice, "PUT", pin_path(general, messages[50]));
  CHECK(full.status == 400);
  CHECK(code_of(full) == 30003);
  CHECK(env.box.rest(bob, "PUT", pin_path(general, messages[50])).status == 403);

  auto page = env.pins(bob, general, "?limit=20");
  REQUIRE(page["items"].size() == 20);
  CHECK(page["has_more"] == true);
  CHECK(page["items"][0]["message"]["id"] == id(messages[49]));
  auto before = page["items"][19]["pinned_at"].get<std::string>();
  auto rest = env.pins(bob, general, "?before=" + before);
  // Pins made in the same millisecond as the 20th share its time: at most 30 follow it.
  CHECK(rest["items"].size() <= 30);
  CHECK(rest["has_more"] == false);
  for (const auto& item : rest["items"]) {
    CHECK(item["pinned_at"].get<std::string>() < before);
  }
  env.pin(alice, general, messages[0], false);
  env.pin(alice, general, messages[50]);  // room again
}

}  // namespace herald::pins_test
