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

TEST_CASE("message_text_of_any_shape_round_trips_through_a_group_of_many_inserts") {
  HERALD_STORE_BACKEND(fx, sync_mode::normal);
  auto store = fx.open();
  // PostgreSQL inserts a run of messages as one statement of array literals: text that looks
  // like that syntax must come back byte for byte.
  const std::vector<std::string> contents = {
      "",     "\"",       "\\",          "\\\"",      "{}",        "{a,b}",   "a,b",
      "NULL", " spaced ", "line\nbreak", "tab\there", "ünïcødé ✓", "'quote'", "}{\"\\,"};
  std::vector<write_batch> batches(contents.size());
  std::vector<const write_batch*> group;
  for (std::size_t i = 0; i < contents.size(); ++i) {
    auto m = sample_message(500 + i);
    m.content_ = contents[i];
    m.mentions_ = i % 2 == 0 ? std::vector<snowflake>{} : std::vector<snowflake>{7, 1ull << 63};
    m.mention_roles_ = {static_cast<snowflake>(i)};
    m.mention_everyone_ = i % 3 == 0;
    m.edited_at_ = static_cast<std::int64_t>(i);
    batches[i].add(write_op::insert_message{m});
    group.push_back(&batches[i]);
  }
  auto results = store->apply_group(group);
  for (std::size_t i = 0; i < contents.size(); ++i) {
    INFO("message " << i);
    REQUIRE(results[i]);
    auto read = store->get_message(500 + i);
    REQUIRE(read);
    CHECK(read.value().content_ == contents[i]);
    CHECK(read.value().mentions_ ==
          (i % 2 == 0 ? std::vector<snowflake>{} : std::vector<snowflake>{7, 1ull << 63}));
    CHECK(read.value().mention_roles_ == std::vector<snowflake>{static_cast<snowflake>(i)});
    CHECK(read.value().mention_everyone_ == (i % 3 == 0));
    CHECK(read.value().edited_at_ == static_cast<std::int64_t>(i));
  }
}

TEST_CASE("a_batch_repeating_an_id_inserted_earlier_in_its_group_fails_alone") {
  HERALD_STORE_BACKEND(fx, sync_mode::normal);
  auto store = fx.open();
  write_batch first;  // 60 and 61
  first.add(write_op::insert_message{sample_message(60)})
      .add(write_op::insert_message{sample_message(61)});
  write_batch repeat;  // 62 is new, 61 was inserted by `first` in the same transaction
  repeat.add(write_op::insert_message{sample_message(62)})
      .add(write_op::insert_message{sample_message(61)});
  write_batch after;
  after.add(write_op::insert_message{sample_message(63)});

  auto results = store->apply_group({&first, &repeat, &after});
  REQUIRE(results.size() == 3);
  CHECK(results[0]);
  REQUIRE_FALSE(results[1]);
  CHECK(results[1].error().code_ == store_errc::constraint);
  CHECK(results[2]);
  CHECK(store->get_message(60));
  CHECK(store->get_message(61));
  CHECK_FALSE(store->get_message(62));
  CHECK(store->get_message(63));
}
