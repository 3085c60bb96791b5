// SPDX-License-Identifier: Apache-2.0
// Pins' state: persisted in the store (a restart keeps it), dropped with a deleted message (a
// core event the feature observes, in guild order) or a deleted channel.
#include "actors/feature/feature_state.hpp"
#include "features/pins/test/pins_fixture.hpp"
#include "test/support/eventually.hpp"

namespace herald::pins_test {

TEST_CASE("pins_survive_a_restart") {
  pins_env env;
  auto m = env.post(general);
  env.pin(alice, general, m);
  auto before = env.pins(bob, general);
  env.box.restart();
  CHECK(env.pins(bob, general) == before);
}

TEST_CASE("a_deleted_message_is_unpinned") {
  pins_env env;
  auto kept = env.post(general);
  auto gone = env.post(general);
  env.pin(alice, general, kept);
  env.pin(alice, general, gone);
  proto::event del;
  del.set_guild_id(guild);
  del.mutable_message_delete()->set_id(gone);
  del.mutable_message_delete()->set_channel_id(general);
  env.box.publish(del);
  // The board gets the delete after its own acks: a pin ordered after it is refused.
  auto again = env.box.rest(alice, "PUT", pin_path(general, gone));
  CHECK(again.status == 404);
  CHECK(code_of(again) == 10008);
  REQUIRE(testing::eventually([&] { return env.pins(bob, general)["items"].size() == 1; }));
  env.box.restart();  // and the store dropped it too
  auto listed = env.pins(bob, general);
  REQUIRE(listed["items"].size() == 1);
  CHECK(listed["items"][0]["message"]["id"] == id(kept));
}

TEST_CASE("a_deleted_channel_drops_its_pins") {
  pins_env env;
  auto m = env.post(general);
  env.pin(alice, general, m);
  proto::event del;
  del.set_guild_id(guild);
  del.mutable_channel_delete()->set_id(general);
  env.box.publish(del);
  feature::feature_state stored{env.box.services(), "pins"};
  REQUIRE(testing::eventually([&] {
    auto rows = stored.load(id(general) + "/");
    return rows && rows->empty();
  }));
  CHECK(env.box.rest(bob, "GET", pins_path(general)).status == 404);
}

}  // namespace herald::pins_test
