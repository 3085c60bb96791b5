// SPDX-License-Identifier: Apache-2.0
// Reads run on their own connection: a write stuck behind the file's write lock (here held by
// another connection, as a slow commit and its fsync would) does not hold up reads, and a read
// started after a write returned sees it.
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "test/actors/store/store_fixture.hpp"

using namespace herald;
using namespace herald::store;
using herald::store::test::open_ok;
using herald::store::test::options_for;
using herald::store::test::temp_dir;

TEST_CASE("a_read_does_not_wait_for_a_write_that_waits_for_the_files_write_lock") {
  temp_dir dir;
  auto options = options_for(dir);
  options.busy_timeout_ = std::chrono::seconds{20};
  auto st = open_ok(options);
  write_batch seed;
  seed.add(write_op::upsert_user{{7, "seven", false}});
  REQUIRE(st->apply(seed));

  // Another connection takes the write lock and keeps it until the read below returned.
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open((options.data_dir_ / options.file_name_).c_str(), &other) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);

  std::atomic<bool> write_returned{false};
  auto writer = std::async(std::launch::async, [&] {
    write_batch b;
    b.add(write_op::upsert_user{{8, "eight", false}});
    auto r = st->apply(b);  // waits (busy_timeout) for the other connection's lock
    write_returned = true;
    return static_cast<bool>(r);
  });
  // Let the writer take the store's write mutex and start waiting on the file lock.
  std::this_thread::sleep_for(std::chrono::milliseconds{200});
  REQUIRE_FALSE(write_returned.load());

  auto seven = st->get_user(7);  // with one shared connection this would wait for the write
  bool read_before_write = !write_returned.load();
  REQUIRE(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(other);

  REQUIRE(seven);
  CHECK(seven.value().username_ == "seven");
  CHECK(read_before_write);
  REQUIRE(writer.get());
  // The reader sees the write that returned before this read started.
  auto eight = st->get_user(8);
  REQUIRE(eight);
  CHECK(eight.value().username_ == "eight");
  CHECK(st->guilds_of_user(8).value().empty());
}
