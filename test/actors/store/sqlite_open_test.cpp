// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <fstream>

#include "test/actors/store/store_fixture.hpp"

using namespace herald::store;
using herald::store::test::open_ok;
using herald::store::test::options_for;
using herald::store::test::temp_dir;

namespace {

// Reads one integer or text pragma through a separate raw connection.
std::string raw_pragma(const std::filesystem::path& file, const char* sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK);
  std::string out;
  if (sqlite3_step(stmt) == SQLITE_ROW) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

}  // namespace

TEST_CASE("opening_creates_the_data_dir_and_a_wal_database_at_the_latest_schema") {
  temp_dir dir;
  auto options = options_for(dir);
  options.data_dir_ = dir.path() / "nested" / "data";
  auto store = open_ok(options);
  CHECK(store->path() == options.data_dir_ / "herald.sqlite3");
  CHECK(std::filesystem::exists(store->path()));
  CHECK(sqlite_store::latest_schema_version() >= 1);
  CHECK(raw_pragma(store->path(), "PRAGMA user_version") ==
        std::to_string(sqlite_store::latest_schema_version()));
  CHECK(raw_pragma(store->path(), "PRAGMA journal_mode") == "wal");
}

TEST_CASE("reopening_an_existing_file_keeps_its_data_and_schema_version") {
  temp_dir dir;
  {
    auto store = open_ok(options_for(dir));
    REQUIRE(store->upsert_user({7, "kept", true}));
  }
  auto store = open_ok(options_for(dir));
  auto got = store->get_user(7);
  REQUIRE(got);
  CHECK(got.value() == herald::domain::user{7, "kept", true});
  CHECK(raw_pragma(store->path(), "PRAGMA user_version") ==
        std::to_string(sqlite_store::latest_schema_version()));
}

TEST_CASE("a_file_from_a_newer_schema_is_refused") {
  temp_dir dir;
  const auto options = options_for(dir);
  { open_ok(options); }
  raw_pragma(options.data_dir_ / options.file_name_, "PRAGMA user_version = 999");
  auto opened = sqlite_store::open(options);
  REQUIRE_FALSE(opened);
  CHECK(opened.error().code_ == store_errc::schema_too_new);
  CHECK(opened.error().message_.find("999") != std::string::npos);
}

TEST_CASE("a_file_that_is_not_sqlite_gives_a_clear_error") {
  temp_dir dir;
  const auto options = options_for(dir);
  std::filesystem::create_directories(options.data_dir_);
  {
    std::ofstream garbage(options.data_dir_ / options.file_name_, std::ios::binary);
    for (int i = 0; i < 4096; ++i) {
      garbage << "this is not a database, just text. ";
    }
  }
  auto opened = sqlite_store::open(options);
  REQUIRE_FALSE(opened);
  CHECK(opened.error().code_ == store_errc::not_a_database);
  CHECK(opened.error().message_.find(options.file_name_) != std::string::npos);
}

TEST_CASE("a_data_dir_that_cannot_be_created_gives_io_error") {
  temp_dir dir;
  std::filesystem::create_directories(dir.path());
  std::ofstream(dir.path() / "file") << "x";
  auto options = options_for(dir);
  options.data_dir_ = dir.path() / "file" / "data";
  auto opened = sqlite_store::open(options);
  REQUIRE_FALSE(opened);
  CHECK(opened.error().code_ == store_errc::io_error);
}

TEST_CASE("a_database_path_that_is_a_directory_gives_io_error") {
  temp_dir dir;
  const auto options = options_for(dir);
  std::filesystem::create_directories(options.data_dir_ / options.file_name_);
  auto opened = sqlite_store::open(options);
  REQUIRE_FALSE(opened);
  CHECK(opened.error().code_ == store_errc::io_error);
}

TEST_CASE("an_empty_data_dir_is_an_invalid_argument") {
  auto opened = sqlite_store::open(sqlite_options{});
  REQUIRE_FALSE(opened);
  CHECK(opened.error().code_ == store_errc::invalid_argument);
}

TEST_CASE("two_stores_on_one_file_see_each_others_commits") {
  temp_dir dir;
  auto a = open_ok(options_for(dir));
  auto b = open_ok(options_for(dir));
  REQUIRE(a->upsert_user({1, "from a", false}));
  auto got = b->get_user(1);
  REQUIRE(got);
  CHECK(got.value().username_ == "from a");
}

TEST_CASE("every_store_error_code_has_a_distinct_name") {
  std::vector<std::string> names;
  for (int i = 0; i <= static_cast<int>(store_errc::internal); ++i) {
    names.emplace_back(to_string(static_cast<store_errc>(i)));
  }
  std::sort(names.begin(), names.end());
  CHECK(std::adjacent_find(names.begin(), names.end()) == names.end());
  CHECK(store_error{store_errc::busy, ""}.retryable());
  CHECK_FALSE(store_error{store_errc::not_found, ""}.retryable());
}

TEST_CASE("an_existing_empty_file_is_migrated_from_version_zero") {
  temp_dir dir;
  const auto options = options_for(dir);
  std::filesystem::create_directories(options.data_dir_);
  { std::ofstream empty(options.data_dir_ / options.file_name_); }
  auto store = open_ok(options);
  CHECK(raw_pragma(store->path(), "PRAGMA user_version") ==
        std::to_string(sqlite_store::latest_schema_version()));
  REQUIRE(store->upsert_user({1, "u", false}));
}
