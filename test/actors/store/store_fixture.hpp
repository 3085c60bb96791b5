// SPDX-License-Identifier: Apache-2.0
#pragma once
// Test fixture for the store tests: a unique temp data dir removed on scope exit, and sample rows.
// Owned by one test case; single-threaded.
// Invariant: the directory is removed when the fixture is destroyed, pass or fail.

#include <atomic>
#include <filesystem>
#include <random>
#include <string>

#include <catch2/catch.hpp>

#include "actors/domain/guild_state.hpp"
#include "actors/store/sqlite_store.hpp"

namespace herald::store::test {

class temp_dir {
public:
  temp_dir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("herald-store-test-" + std::to_string(rd()) + "-" + std::to_string(rd()));
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::filesystem::path& path() const { return path_; }

private:
  std::filesystem::path path_;
};

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
