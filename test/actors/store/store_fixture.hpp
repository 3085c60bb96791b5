// SPDX-License-Identifier: Apache-2.0
#pragma once
// Test fixtures for the store tests: the backend under test (SQLite in a temp dir removed on
// scope exit, or PostgreSQL: a fresh database on the test process's shared server), and sample
// rows. Owned by one test case; single-threaded.
// Invariant: every backend_fixture starts from an empty store; the tests that use
// HERALD_STORE_BACKEND run once per backend (Catch2 generator), the same test for both.

#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

#include <sqlite3.h>

#include "actors/domain/guild_state.hpp"
#include "actors/store/postgres_store.hpp"
#include "actors/store/sqlite_store.hpp"
#include "test/support/postgres_server.hpp"
#include "test/support/temp_dir.hpp"

namespace herald::store::test {

using herald::testing::temp_dir;

inline sqlite_options options_for(const temp_dir& dir, sync_mode sync = sync_mode::full) {
  sqlite_options o;
  o.data_dir_ = dir.path() / "data";
  o.sync_ = sync;
  return o;
}

inline std::unique_ptr<sqlite_store> open_ok(const sqlite_options& options) {
  auto opened = sqlite_store::open(options);
  if (!opened) {
    FAIL("open failed: " << to_string(opened.error().code_) << ": " << opened.error().message_);
  }
  return std::move(opened).value();
}

enum class backend { sqlite, postgres };

inline const char* to_string(backend kind) {
  return kind == backend::sqlite ? "sqlite" : "postgres";
}

/// The data of one store under test; open() opens a store on it (again: a reopened store sees
/// what an earlier one committed). `sync` applies to SQLite only.
class backend_fixture {
public:
  explicit backend_fixture(backend kind, sync_mode sync = sync_mode::full)
      : kind_(kind), sync_(sync) {
    if (kind_ == backend::postgres) {
      // Throws (the test fails, never skips) when PostgreSQL cannot start.
      database_ = herald::testing::shared_postgres_server().create_database();
    }
  }

  backend kind() const { return kind_; }
  sqlite_options sqlite() const { return options_for(dir_, sync_); }
  postgres_options postgres() const {
    postgres_options o;
    o.url_ = herald::testing::shared_postgres_server().url(database_);
    return o;
  }
  const std::string& database() const { return database_; }

  result<std::unique_ptr<store>> try_open() const {
    if (kind_ == backend::sqlite) {
      auto opened = sqlite_store::open(sqlite());
      if (!opened) {
        return opened.error();
      }
      return std::unique_ptr<store>(std::move(opened).value());
    }
    auto opened = postgres_store::open(postgres());
    if (!opened) {
      return opened.error();
    }
    return std::unique_ptr<store>(std::move(opened).value());
  }

  std::unique_ptr<store> open() const {
    auto opened = try_open();
    if (!opened) {
      FAIL(to_string(kind_) << " open failed: " << to_string(opened.error().code_) << ": "
                            << opened.error().message_);
    }
    return std::move(opened).value();
  }

private:
  temp_dir dir_;
  backend kind_;
  sync_mode sync_;
  std::string database_;
};

/// Declares `backend_fixture NAME` (with SQLite's sync mode SYNC) and runs the rest of the test
/// case once per backend.
#define HERALD_STORE_BACKEND(NAME, SYNC)                                                          \
  ::herald::store::test::backend_fixture NAME(                                                    \
      GENERATE(::herald::store::test::backend::sqlite, ::herald::store::test::backend::postgres), \
      SYNC);                                                                                      \
  INFO("backend: " << ::herald::store::test::to_string(NAME.kind()))

/// Takes the store of `fx` back to the schema version before the migration that added `table`:
/// the table is dropped and the version set to `sqlite_version` or `pg_version` (the one before
/// that migration), exactly what a store of that version holds. For migration tests.
inline void rewind_before_table(backend_fixture& fx, const std::string& table, int sqlite_version,
                                int pg_version) {
  if (fx.kind() == backend::postgres) {
    herald::testing::shared_postgres_server().psql(
        fx.database(), "DROP TABLE " + table +
                           "; UPDATE herald_schema SET version = " + std::to_string(pg_version));
    return;
  }
  sqlite3* db = nullptr;
  auto file = fx.sqlite().data_dir_ / fx.sqlite().file_name_;
  REQUIRE(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
  auto sql = "DROP TABLE " + table + "; PRAGMA user_version = " + std::to_string(sqlite_version);
  CHECK(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
}

inline domain::message sample_message(snowflake id, snowflake channel_id = 300) {
  domain::message m;
  m.id_ = id;
  m.channel_id_ = channel_id;
  m.guild_id_ = 100;
  m.author_id_ = 2;
  m.content_ = "message " + std::to_string(id);
  m.created_at_ = 1795822570123;
  return m;
}

}  // namespace herald::store::test
