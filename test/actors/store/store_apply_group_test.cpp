// SPDX-License-Identifier: Apache-2.0
// store::apply_group on both backends: results[i] answers batches[i], a failing batch is rolled
// back alone and the others commit.
#include <catch2/catch.hpp>

#include "test/actors/store/store_fixture.hpp"

using namespace herald::store;
using namespace herald::domain;
using herald::store::test::sample_message;

TEST_CASE("a_failing_batch_of_a_group_fails_alone_and_its_neighbours_commit") {
  HERALD_STORE_BACKEND(fx, sync_mode::normal);
  auto store = fx.open();
  REQUIRE(store->insert_message(sample_message(1)));
  write_batch first;
  first.add(write_op::upsert_user{user{10, "first", false}})
      .add(write_op::insert_message{sample_message(11)});
  write_batch duplicate;  // its second op breaks the unique id: the whole batch is undone
  duplicate.add(write_op::upsert_user{user{20, "dup", false}})
      .add(write_op::insert_message{sample_message(1)});
  write_batch missing;  // fails on its own data: not_found
  missing.add(write_op::insert_message{sample_message(31)})
      .add(write_op::update_message{404, "x", 1});
  write_batch empty;
  write_batch last;
  last.add(write_op::insert_message{sample_message(41)});

  auto results = store->apply_group({&first, &duplicate, &missing, &empty, &last});
  REQUIRE(results.size() == 5);
  CHECK(results[0]);
  REQUIRE_FALSE(results[1]);
  CHECK(results[1].error().code_ == store_errc::constraint);
  REQUIRE_FALSE(results[2]);
  CHECK(results[2].error().code_ == store_errc::not_found);
  CHECK(results[3]);
  CHECK(results[4]);

  CHECK(store->get_user(10));
  CHECK(store->get_message(11));
  CHECK(store->get_message(41));
  CHECK_FALSE(store->get_user(20));
  CHECK_FALSE(store->get_message(31));
  CHECK(store->get_message(1).value().content_ == sample_message(1).content_);
}

TEST_CASE("a_group_of_good_batches_commits_all_of_them_in_order") {
  HERALD_STORE_BACKEND(fx, sync_mode::normal);
  auto store = fx.open();
  std::vector<write_batch> batches(50);
  std::vector<const write_batch*> group;
  for (std::size_t i = 0; i < batches.size(); ++i) {
    const snowflake id = 1000 + i;
    batches[i].add(write_op::insert_message{sample_message(id)});
    batches[i].add(write_op::update_message{id, "edited " + std::to_string(i), 5});
    group.push_back(&batches[i]);
  }
  auto results = store->apply_group(group);
  REQUIRE(results.size() == batches.size());
  for (const auto& r : results) {
    CHECK(r);
  }
  CHECK(store->recent_messages(300, 1000).value().size() == batches.size());
  CHECK(store->get_message(1049).value().content_ == "edited 49");
  CHECK(store->apply_group({}).empty());
}
