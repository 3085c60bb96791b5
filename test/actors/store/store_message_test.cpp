// SPDX-License-Identifier: Apache-2.0
// The store interface on both backends (HERALD_STORE_BACKEND: SQLite and PostgreSQL): messages,
// edits, deletes, paging, concurrent writers, metrics. batched_message_insert_rate ([.bench],
// run by hand) measures SQLite alone.
#include <catch2/catch.hpp>

#include <chrono>
#include <iostream>
#include <thread>

#include "actors/domain/snowflake.hpp"
#include "runtime/metrics/metrics.hpp"
#include "test/actors/store/store_fixture.hpp"

using namespace herald::store;
using namespace herald::domain;
using herald::store::test::open_ok;
using herald::store::test::options_for;
using herald::store::test::sample_message;
using herald::store::test::temp_dir;
using herald::store::test::to_string;

TEST_CASE("messages_round_trip_with_mentions_and_timestamps") {
  HERALD_STORE_BACKEND(fx, sync_mode::full);
  auto store = fx.open();
  auto m = sample_message(1001);
  m.content_ = "héllo <@2> \"quoted\" ' ; DROP TABLE messages; --";
  m.mentions_ = {2, 0xfedcba9876543210ULL};
  m.mention_roles_ = {200};
  m.mention_everyone_ = true;
  REQUIRE(store->insert_message(m));
  auto got = store->get_message(1001);
  REQUIRE(got);
  CHECK(got.value() == m);
}

TEST_CASE("editing_a_message_updates_content_and_edited_at") {
  HERALD_STORE_BACKEND(fx, sync_mode::full);
  auto store = fx.open();
  REQUIRE(store->insert_message(sample_message(1001)));
  REQUIRE(store->update_message(1001, "edited", 1795822580000));
  auto got = store->get_message(1001);
  REQUIRE(got);
  CHECK(got.value().content_ == "edited");
  CHECK(got.value().edited_at_ == 1795822580000);
  CHECK(got.value().created_at_ == sample_message(1001).created_at_);
}

TEST_CASE("deleting_a_message_marks_it_and_erases_its_content") {
  HERALD_STORE_BACKEND(fx, sync_mode::full);
  auto store = fx.open();
  auto m = sample_message(1001);
  m.mentions_ = {2};
  REQUIRE(store->insert_message(m));
  REQUIRE(store->delete_message(1001));
  auto got = store->get_message(1001);
  REQUIRE(got);
  CHECK(got.value().deleted_);
  CHECK(got.value().content_.empty());
  CHECK(got.value().mentions_.empty());
  auto edit = store->update_message(1001, "too late", 1);
  REQUIRE_FALSE(edit);
  CHECK(edit.error().code_ == store_errc::not_found);
}

TEST_CASE("editing_or_deleting_an_unknown_message_is_not_found") {
  HERALD_STORE_BACKEND(fx, sync_mode::full);
  auto store = fx.open();
  auto edit = store->update_message(404, "x", 1);
  REQUIRE_FALSE(edit);
  CHECK(edit.error().code_ == store_errc::not_found);
  auto del = store->delete_message(404);
  REQUIRE_FALSE(del);
  CHECK(del.error().code_ == store_errc::not_found);
  auto get = store->get_message(404);
  REQUIRE_FALSE(get);
  CHECK(get.error().code_ == store_errc::not_found);
}

TEST_CASE("inserting_a_message_id_twice_is_a_constraint_error") {
  HERALD_STORE_BACKEND(fx, sync_mode::full);
  auto store = fx.open();
  REQUIRE(store->insert_message(sample_message(1001)));
  auto again = store->insert_message(sample_message(1001));
  REQUIRE_FALSE(again);
  CHECK(again.error().code_ == store_errc::constraint);
}

TEST_CASE("a_failing_batch_writes_nothing") {
  HERALD_STORE_BACKEND(fx, sync_mode::full);
  auto store = fx.open();
  write_batch batch;
  batch.add(write_op::upsert_user{user{1, "u", false}})
      .add(write_op::insert_message{sample_message(1001)})
      .add(write_op::update_message{404, "missing", 1});
  auto r = store->apply(batch);
  REQUIRE_FALSE(r);
  CHECK(r.error().code_ == store_errc::not_found);
  CHECK_FALSE(store->get_message(1001));
  CHECK_FALSE(store->get_user(1));
  // The store stays usable after the rollback.
  REQUIRE(store->insert_message(sample_message(1001)));
  CHECK(store->get_message(1001));
}

TEST_CASE("recent_messages_are_newest_first_paged_by_before_and_skip_deleted") {
  HERALD_STORE_BACKEND(fx, sync_mode::full);
  auto store = fx.open();
  write_batch batch;
  for (snowflake id = 1; id <= 10; ++id) {
    batch.add(write_op::insert_message{sample_message(id)});
  }
  batch.add(write_op::insert_message{sample_message(11, 999)});
  REQUIRE(store->apply(batch));
  REQUIRE(store->delete_message(9));
  auto ids_of = [](const std::vector<message>& ms) {
    std::vector<snowflake> out;
    for (const auto& m : ms) {
      out.push_back(m.id_);
    }
    return out;
  };
  auto first = store->recent_messages(300, 3);
  REQUIRE(first);
  CHECK(ids_of(first.value()) == std::vector<snowflake>{10, 8, 7});
  auto next = store->recent_messages(300, 3, 7);
  REQUIRE(next);
  CHECK(ids_of(next.value()) == std::vector<snowflake>{6, 5, 4});
  CHECK(store->recent_messages(300, 100, 2).value().size() == 1);
  CHECK(store->recent_messages(555, 10).value().empty());
  auto bad = store->recent_messages(300, 0);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code_ == store_errc::invalid_argument);
}

TEST_CASE("threads_sharing_one_store_all_get_their_writes_in") {
  HERALD_STORE_BACKEND(fx, sync_mode::normal);
  auto store = fx.open();
  snowflake_generator ids(1, 1);
  constexpr int threads = 4;
  constexpr int per_thread = 50;
  std::vector<std::thread> workers;
  std::atomic<int> failures{0};
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (int i = 0; i < per_thread; ++i) {
        if (!store->insert_message(sample_message(ids.next()))) {
          ++failures;
        }
      }
    });
  }
  for (auto& w : workers) {
    w.join();
  }
  CHECK(failures == 0);
  CHECK(store->recent_messages(300, 1000).value().size() == threads * per_thread);
}

TEST_CASE("committed_batches_are_counted_in_metrics") {
  auto& reg = herald::metrics::registry::global();
  HERALD_STORE_BACKEND(fx, sync_mode::normal);
  const herald::metrics::labels l{{"backend", to_string(fx.kind())}};
  auto store = fx.open();
  const double batches = reg.value_of("herald_store_batches_total", l);
  const double ops = reg.value_of("herald_store_ops_total", l);
  write_batch batch;
  batch.add(write_op::insert_message{sample_message(1)})
      .add(write_op::insert_message{sample_message(2)});
  REQUIRE(store->apply(batch));
  CHECK(reg.value_of("herald_store_batches_total", l) == batches + 1);
  CHECK(reg.value_of("herald_store_ops_total", l) == ops + 2);
  REQUIRE_FALSE(store->delete_message(404));
  CHECK(reg.value_of("herald_store_errors_total",
                     {{"backend", to_string(fx.kind())}, {"code", "not_found"}}) >= 1);
}

// A measurement, not a test: run with `test_actors_store "[.bench]"`.
TEST_CASE("batched_message_insert_rate", "[.bench]") {
  for (auto sync : {sync_mode::full, sync_mode::normal}) {
    for (int batch_size : {1, 100, 1000}) {
      temp_dir dir;
      auto store = open_ok(options_for(dir, sync));
      snowflake_generator ids(1, 1);
      const int total = batch_size == 1 ? 2000 : 100000;
      const auto start = std::chrono::steady_clock::now();
      for (int done = 0; done < total; done += batch_size) {
        write_batch batch;
        for (int i = 0; i < batch_size; ++i) {
          auto m = sample_message(ids.next());
          m.content_ = "a typical chat message of around sixty bytes, give or take";
          batch.add(write_op::insert_message{std::move(m)});
        }
        REQUIRE(store->apply(batch));
      }
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::cout << (sync == sync_mode::full ? "FULL  " : "NORMAL") << " batch " << batch_size
                << ": " << static_cast<long>(total / secs) << " inserts/s (" << total << " in "
                << secs << " s)\n";
    }
  }
}
