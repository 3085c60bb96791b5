// SPDX-License-Identifier: Apache-2.0
// Store additions for identity and REST: token epochs per user and the guild of a channel, on
// both backends (HERALD_STORE_BACKEND); the version-1 migration case is SQLite's alone.
#include <sqlite3.h>

#include <catch2/catch.hpp>

#include "actors/store/detail/sqlite_schema.hpp"
#include "store_fixture.hpp"

namespace herald::store::test {

TEST_CASE("a_new_users_token_epoch_is_zero_and_each_bump_raises_it_by_one_durably") {
  HERALD_STORE_BACKEND(fx, sync_mode::full);
  {
    auto store = fx.open();
    REQUIRE(store->upsert_user({7, "alice", false}));
    auto epoch = store->token_epoch(7);
    REQUIRE(epoch);
    CHECK(epoch.value() == 0);
    auto bumped = store->bump_token_epoch(7);
    REQUIRE(bumped);
    CHECK(bumped.value() == 1);
    REQUIRE(store->bump_token_epoch(7));
    // A later guild write of the user row keeps the epoch.
    REQUIRE(store->upsert_user({7, "alice renamed", false}));
  }
  auto reopened = fx.open();
  auto epoch = reopened->token_epoch(7);
  REQUIRE(epoch);
  CHECK(epoch.value() == 2);
}

TEST_CASE("token_epochs_of_unknown_users_are_not_found_and_bumping_them_writes_nothing") {
  HERALD_STORE_BACKEND(fx, sync_mode::full);
  auto store = fx.open();
  auto epoch = store->token_epoch(99);
  REQUIRE_FALSE(epoch);
  CHECK(epoch.error().code_ == store_errc::not_found);
  auto bumped = store->bump_token_epoch(99);
  REQUIRE_FALSE(bumped);
  CHECK(bumped.error().code_ == store_errc::not_found);
  REQUIRE(store->upsert_user({99, "late", true}));
  auto after = store->token_epoch(99);
  REQUIRE(after);
  CHECK(after.value() == 0);
}

TEST_CASE("guild_of_channel_names_the_channels_guild_and_not_found_for_unknown_channels") {
  HERALD_STORE_BACKEND(fx, sync_mode::full);
  auto store = fx.open();
  domain::channel c;
  c.id_ = 300;
  c.guild_id_ = 100;
  c.name_ = "general";
  REQUIRE(store->upsert_channel(c));
  auto guild = store->guild_of_channel(300);
  REQUIRE(guild);
  CHECK(guild.value() == 100);
  auto missing = store->guild_of_channel(301);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code_ == store_errc::not_found);
  REQUIRE(store->delete_channel(300));
  CHECK_FALSE(store->guild_of_channel(300));
}

TEST_CASE("a_version_1_file_is_migrated_to_token_epochs_keeping_its_users") {
  temp_dir dir;
  auto options = options_for(dir);
  std::filesystem::create_directories(options.data_dir_);
  {
    // A file as the previous release wrote it: schema 1 and one user.
    sqlite3* db = nullptr;
    auto file = options.data_dir_ / options.file_name_;
    REQUIRE(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                            nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, detail::migrations().at(0), nullptr, nullptr, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db,
                         "INSERT INTO users(id, username, bot) VALUES(5, 'old', 0);"
                         "PRAGMA user_version = 1;",
                         nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  auto store = open_ok(options);
  CHECK(sqlite_store::latest_schema_version() >= 2);
  auto epoch = store->token_epoch(5);
  REQUIRE(epoch);
  CHECK(epoch.value() == 0);
  auto bumped = store->bump_token_epoch(5);
  REQUIRE(bumped);
  CHECK(bumped.value() == 1);
}

}  // namespace herald::store::test
