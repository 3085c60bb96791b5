// SPDX-License-Identifier: Apache-2.0
#pragma once
// Test fixture for the store tests: a unique temp data dir removed on scope exit, and sample rows.
// Owned by one test case; single-threaded.
// Invariant: the directory is removed when the fixture is destroyed, pass or fail.

#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

#include "actors/domain/guild_state.hpp"
#include "actors/store/sqlite_store.hpp"
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
