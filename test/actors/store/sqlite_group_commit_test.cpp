// SPDX-License-Identifier: Apache-2.0
// sqlite_store::apply_group: one transaction for many batches, each batch all-or-nothing on its
// own (a savepoint per batch), results[i] answering batches[i].
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <vector>

#include "runtime/metrics/metrics.hpp"
#include "test/actors/store/store_fixture.hpp"

using namespace herald::store;
using herald::store::test::open_ok;
using herald::store::test::options_for;
using herald::store::test::sample_message;
using herald::store::test::temp_dir;

namespace {

write_batch insert(std::vector<snowflake> ids) {
  write_batch b;
  for (auto id : ids) {
    b.add(write_op::insert_message{sample_message(id)});
  }
  return b;
}

double sqlite_counter(const char* name) {
  return herald::metrics::registry::global().value_of(name, {{"backend", "sqlite"}});
}

// Runs SQL on a second, raw connection to the store's file (to plant a trigger).
void exec_raw(const sqlite_store& store, const char* sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(store.path().c_str(), &db) == SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  INFO((err != nullptr ? err : ""));
  sqlite3_free(err);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

}  // namespace

TEST_CASE("a_failing_batch_in_a_group_fails_alone_and_the_others_commit_in_one_transaction") {
  temp_dir dir;
  auto store = open_ok(options_for(dir));
  REQUIRE(store->insert_message(sample_message(5)));
  auto good_a = insert({10, 11});
  // Inserts 20, then hits the existing id 5: the whole batch (20 too) must be undone.
  auto bad = insert({20, 5});
  auto good_b = insert({30});
  const double commits_before = sqlite_counter("herald_store_commits_total");
  const double batches_before = sqlite_counter("herald_store_batches_total");

  auto results = store->apply_group({&good_a, &bad, &good_b});

  REQUIRE(results.size() == 3);
  CHECK(results[0].ok());
  REQUIRE_FALSE(results[1].ok());
  CHECK(results[1].error().code_ == store_errc::constraint);
  CHECK(results[2].ok());
  CHECK(store->get_message(10).ok());
  CHECK(store->get_message(11).ok());
  CHECK(store->get_message(30).ok());
  CHECK(store->get_message(20).error().code_ == store_errc::not_found);
  CHECK(sqlite_counter("herald_store_commits_total") - commits_before == 1);
  CHECK(sqlite_counter("herald_store_batches_total") - batches_before == 2);
}

TEST_CASE("batches_of_a_group_apply_in_the_order_given") {
  temp_dir dir;
  auto store = open_ok(options_for(dir));
  auto first = insert({40});
  write_batch edit;
  edit.add(write_op::update_message{40, "second wins", 7});
  write_batch edit_again;
  edit_again.add(write_op::update_message{40, "third wins", 8});
  // An edit of a message that a later batch inserts fails: it is applied before the insert.
  write_batch early_edit;
  early_edit.add(write_op::update_message{41, "too early", 9});
  auto late_insert = insert({41});

  auto results = store->apply_group({&first, &edit, &edit_again, &early_edit, &late_insert});

  REQUIRE(results.size() == 5);
  CHECK(results[0].ok());
  CHECK(results[1].ok());
  CHECK(results[2].ok());
  REQUIRE_FALSE(results[3].ok());
  CHECK(results[3].error().code_ == store_errc::not_found);
  CHECK(results[4].ok());
  CHECK(store->get_message(40).value().content_ == "third wins");
  CHECK(store->get_message(41).value().content_ == "message 41");
}

TEST_CASE("a_group_whose_transaction_is_lost_fails_every_batch_that_had_not_failed") {
  temp_dir dir;
  auto store = open_ok(options_for(dir));
  // A trigger that aborts the whole transaction (not just the statement) when it sees id 66:
  // what an I/O error or a full disk does to a group.
  exec_raw(*store,
           "CREATE TRIGGER lose_transaction BEFORE INSERT ON messages WHEN NEW.id = 66 "
           "BEGIN SELECT RAISE(ROLLBACK, 'injected: transaction lost'); END");
  REQUIRE(store->insert_message(sample_message(5)));
  auto good_before = insert({50});
  auto own_failure = insert({51, 5});
  auto fatal = insert({60, 66});
  auto good_after = insert({70});

  auto results = store->apply_group({&good_before, &own_failure, &fatal, &good_after});

  REQUIRE(results.size() == 4);
  REQUIRE_FALSE(results[0].ok());
  REQUIRE_FALSE(results[1].ok());
  CHECK(results[1].error().code_ == store_errc::constraint);  // its own error, not the group's
  REQUIRE_FALSE(results[2].ok());
  REQUIRE_FALSE(results[3].ok());
  CHECK(results[0].error().message_ == results[2].error().message_);
  CHECK(results[3].error().message_ == results[2].error().message_);
  for (snowflake id : {50, 51, 60, 70}) {
    CHECK(store->get_message(id).error().code_ == store_errc::not_found);
  }
  // The connection is usable afterwards, in a group and alone.
  auto next = insert({80});
  CHECK(store->apply_group({&next}).at(0).ok());
  CHECK(store->insert_message(sample_message(81)).ok());
}

TEST_CASE("an_empty_group_and_empty_batches_succeed_without_writing") {
  temp_dir dir;
  auto store = open_ok(options_for(dir));
  CHECK(store->apply_group({}).empty());
  write_batch empty;
  auto one = insert({90});
  auto results = store->apply_group({&empty, &one, &empty});
  REQUIRE(results.size() == 3);
  CHECK(results[0].ok());
  CHECK(results[1].ok());
  CHECK(results[2].ok());
  CHECK(store->get_message(90).ok());
}

// Runs of batches that only insert new messages go in as one multi-row INSERT without
// savepoints (sqlite_store.cpp): these check that the fast path keeps each batch's
// all-or-nothing, every row's fields, and the order of mixed groups.

TEST_CASE("a_long_run_of_message_batches_commits_every_row_with_its_fields") {
  temp_dir dir;
  auto store = open_ok(options_for(dir));
  // More rows than one multi-row statement takes, in batches of 1..3, with an empty batch and a
  // batch too large for a statement (it goes alone, under its savepoint) among them.
  std::vector<write_batch> batches;
  snowflake next = 1000;
  for (int b = 0; b < 40; ++b) {
    std::vector<snowflake> ids;
    for (int k = 0; k < 1 + b % 3; ++k) {
      ids.push_back(next++);
    }
    batches.push_back(insert(ids));
  }
  batches.emplace_back();
  std::vector<snowflake> big;
  for (int k = 0; k < 50; ++k) {
    big.push_back(next++);
  }
  batches.push_back(insert(big));
  herald::domain::message rich = sample_message(next++, 301);
  rich.content_ = "quote \" and \xc3\xa9 and a\nnewline";
  rich.edited_at_ = 42;
  rich.mentions_ = {7, 8};
  rich.mention_roles_ = {9};
  rich.mention_everyone_ = true;
  batches.emplace_back().add(write_op::insert_message{rich});
  std::vector<const write_batch*> group;
  for (const auto& b : batches) {
    group.push_back(&b);
  }

  auto results = store->apply_group(group);

  REQUIRE(results.size() == group.size());
  for (const auto& r : results) {
    CHECK(r.ok());
  }
  for (snowflake id = 1000; id + 1 < next; ++id) {
    INFO(id);
    auto got = store->get_message(id);
    REQUIRE(got.ok());
    CHECK(got.value().content_ == "message " + std::to_string(id));
    CHECK(got.value().channel_id_ == 300);
    CHECK(got.value().created_at_ == 1795822570123);
  }
  auto got = store->get_message(rich.id_);
  REQUIRE(got.ok());
  CHECK(got.value().content_ == rich.content_);
  CHECK(got.value().channel_id_ == 301);
  CHECK(got.value().guild_id_ == 100);
  CHECK(got.value().author_id_ == 2);
  CHECK(got.value().edited_at_ == 42);
  CHECK(got.value().mentions_ == std::vector<snowflake>{7, 8});
  CHECK(got.value().mention_roles_ == std::vector<snowflake>{9});
  CHECK(got.value().mention_everyone_);
  CHECK_FALSE(got.value().deleted_);
}

TEST_CASE("a_bad_batch_inside_a_run_of_message_batches_fails_alone") {
  temp_dir dir;
  auto store = open_ok(options_for(dir));
  REQUIRE(store->insert_message(sample_message(5)));
  std::vector<write_batch> batches;
  for (snowflake id = 100; id < 110; ++id) {
    batches.push_back(insert({id}));
  }
  batches[3] = insert({200, 5});    // an existing id after a new one: both undone
  batches[7] = insert({300, 300});  // the same id twice in one batch
  write_batch edit;                 // a mixed batch between runs: applied in its place
  edit.add(write_op::update_message{101, "edited", 3});
  batches.insert(batches.begin() + 5, std::move(edit));
  std::vector<const write_batch*> group;
  for (const auto& b : batches) {
    group.push_back(&b);
  }
  const double batches_before = sqlite_counter("herald_store_batches_total");

  auto results = store->apply_group(group);

  REQUIRE(results.size() == 11);
  for (std::size_t i = 0; i < results.size(); ++i) {
    INFO(i);
    if (i == 3 || i == 8) {
      REQUIRE_FALSE(results[i].ok());
      CHECK(results[i].error().code_ == store_errc::constraint);
    } else {
      CHECK(results[i].ok());
    }
  }
  for (snowflake id : {200, 300}) {
    CHECK(store->get_message(id).error().code_ == store_errc::not_found);
  }
  for (snowflake id : {100, 101, 102, 104, 105, 106, 108, 109}) {
    CHECK(store->get_message(id).ok());
  }
  CHECK(store->get_message(101).value().content_ == "edited");
  CHECK(sqlite_counter("herald_store_batches_total") - batches_before == 9);
}
