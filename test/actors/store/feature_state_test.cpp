// SPDX-License-Identifier: Apache-2.0
// Features' keyed state (write_op::put_feature_state / erase_feature_state,
// store::load_feature_state) on both backends: written through batches (all or nothing with
// the batch's other ops), loaded by key prefix in key order, apart per feature, durable across
// a reopen, binary values intact.
#include <catch2/catch.hpp>

#include "test/actors/store/store_fixture.hpp"

using namespace herald::store;
using herald::store::test::sample_message;

namespace {

std::vector<std::string> keys_of(const result<std::vector<feature_state_entry>>& loaded) {
  REQUIRE(loaded);
  std::vector<std::string> out;
  for (const auto& e : loaded.value()) {
    out.push_back(e.key_);
  }
  return out;
}

}  // namespace

TEST_CASE("feature_state_is_put_erased_and_loaded_by_prefix_per_feature") {
  HERALD_STORE_BACKEND(fx, sync_mode::normal);
  auto store = fx.open();
  write_batch batch;
  batch.add(write_op::put_feature_state{"reactions", "7/1/5/a", "x"})
      .add(write_op::put_feature_state{"reactions", "7/1/6/a", "y"})
      .add(write_op::put_feature_state{"reactions", "7/2/5/b", "z"})
      .add(write_op::put_feature_state{"reactions", "70/1/5/a", "other channel"})
      .add(write_op::put_feature_state{"pins", "7/1", "pinned"});
  REQUIRE(store->apply(batch));

  CHECK(keys_of(store->load_feature_state("reactions", "7/")) ==
        std::vector<std::string>{"7/1/5/a", "7/1/6/a", "7/2/5/b"});
  CHECK(keys_of(store->load_feature_state("reactions", "")).size() == 4);
  CHECK(keys_of(store->load_feature_state("pins", "")) == std::vector<std::string>{"7/1"});
  CHECK(keys_of(store->load_feature_state("nobody", "")).empty());

  write_batch change;
  change.add(write_op::put_feature_state{"reactions", "7/1/5/a", "replaced"})
      .add(write_op::erase_feature_state{"reactions", "7/1/6/a", false})
      .add(write_op::erase_feature_state{"reactions", "7/2/", true})
      .add(write_op::erase_feature_state{"reactions", "absent", false});
  REQUIRE(store->apply(change));
  auto left = store->load_feature_state("reactions", "7/");
  REQUIRE(left);
  REQUIRE(left.value().size() == 1);
  CHECK(left.value()[0].key_ == "7/1/5/a");
  CHECK(left.value()[0].value_ == "replaced");
  // Another feature's rows and other prefixes are untouched.
  CHECK(keys_of(store->load_feature_state("pins", "")).size() == 1);
  CHECK(keys_of(store->load_feature_state("reactions", "70/")).size() == 1);
}

TEST_CASE("feature_state_rides_its_batch_and_survives_a_reopen") {
  HERALD_STORE_BACKEND(fx, sync_mode::normal);
  const std::string binary{"\0\x01\xff\xfe value", 10};
  {
    auto store = fx.open();
    REQUIRE(store->insert_message(sample_message(1)));
    write_batch failing;  // its second op breaks the unique id: the state write is undone too
    failing.add(write_op::put_feature_state{"reactions", "undone", "v"})
        .add(write_op::insert_message{sample_message(1)});
    REQUIRE_FALSE(store->apply(failing));
    write_batch good;
    good.add(write_op::put_feature_state{"reactions", "kept", binary});
    REQUIRE(store->apply(good));
  }
  auto reopened = fx.open();
  auto loaded = reopened->load_feature_state("reactions", "");
  REQUIRE(loaded);
  REQUIRE(loaded.value().size() == 1);
  CHECK(loaded.value()[0].key_ == "kept");
  CHECK(loaded.value()[0].value_ == binary);
}
