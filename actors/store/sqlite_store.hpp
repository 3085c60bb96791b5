// SPDX-License-Identifier: Apache-2.0
#pragma once
// The embedded store: one SQLite file (WAL) under the node's data dir, schema migrated on open.
// One object per node, shared by all guild actors; any thread may call it, calls run one at a time.
// Invariant: when a write returns success its transaction is committed with the configured sync.
//
// Durability: sync_mode::full (default) fsyncs the WAL at every commit, so an
// acknowledged write survives power loss and OS crashes, which is what the
// dispatch core promises producers. sync_mode::normal fsyncs only at
// checkpoints: acknowledged writes survive a crash of heraldd but the last
// ones may be lost on power failure; use it only where that is acceptable
// (tests, benches). Batches amortise the fsync: group-commit many events per
// apply() rather than calling the one-op helpers per event.
//
// Thread-safety: two sqlite3 connections per store, each guarded by its own
// mutex held for a whole call: one for writes (apply, bump_token_epoch) and
// one for reads. SQLite allows one writer per file anyway, so a second writer
// would not add throughput; the separate reader is there because WAL readers
// never wait for a writer, so a read (an Identify's user and guilds on a
// gateway io thread, a REST message lookup) never waits behind a guild's
// commit and its fsync. A read sees every commit that returned before it
// started. Another process may open the same file; it then waits up to
// busy_timeout for the lock and gets store_errc::busy after that.

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "actors/store/store.hpp"

namespace herald::store {

enum class sync_mode {
  full,    ///< PRAGMA synchronous=FULL: durable against power loss (default)
  normal,  ///< PRAGMA synchronous=NORMAL: durable against process crash only
};

struct sqlite_options {
  std::filesystem::path data_dir_;            ///< created (with parents) if missing
  std::string file_name_ = "herald.sqlite3";  ///< the one file under data_dir_
  sync_mode sync_ = sync_mode::full;
  std::chrono::milliseconds busy_timeout_{5000};  ///< wait for another process's lock
};

class sqlite_store final : public store {
public:
  /// Opens or creates the file, enables WAL, applies missing migrations.
  /// Errors: invalid_argument (empty data dir), io_error (cannot create or
  /// open), not_a_database, corrupt, schema_too_new.
  static result<std::unique_ptr<sqlite_store>> open(const sqlite_options& options);

  ~sqlite_store() override;
  sqlite_store(const sqlite_store&) = delete;
  sqlite_store& operator=(const sqlite_store&) = delete;

  result<void> apply(const write_batch& batch) override;
  /// One BEGIN IMMEDIATE ... COMMIT (one fsync under sync_mode::full) for all batches, each in
  /// its own SAVEPOINT: a failing op rolls back its batch alone (ROLLBACK TO + RELEASE).
  std::vector<result<void>> apply_group(const std::vector<const write_batch*>& batches) override;
  result<guild_owner> claim_guild(snowflake guild_id, std::uint64_t node_id) override;
  std::vector<result<guild_owner>> claim_guilds(const std::vector<snowflake>& guild_ids,
                                                std::uint64_t node_id) override;
  result<guild_owner> guild_owner_of(snowflake guild_id) override;
  result<std::vector<tail_event>> read_tail(snowflake guild_id, std::uint64_t after_epoch,
                                            std::uint64_t after_order) override;
  result<std::optional<tail_event>> tail_head(snowflake guild_id) override;
  result<domain::guild_state> load_guild(snowflake guild_id) override;
  result<std::vector<snowflake>> list_guild_ids() override;
  result<std::vector<snowflake>> guilds_of_user(snowflake user_id) override;
  result<domain::user> get_user(snowflake user_id) override;
  result<domain::message> get_message(snowflake message_id) override;
  result<std::vector<domain::message>> recent_messages(snowflake channel_id, std::size_t limit,
                                                       snowflake before = 0) override;
  result<snowflake> guild_of_channel(snowflake channel_id) override;
  result<std::vector<feature_state_entry>> load_feature_state(const std::string& feature,
                                                              const std::string& prefix) override;
  result<std::uint64_t> token_epoch(snowflake user_id) override;
  result<std::uint64_t> bump_token_epoch(snowflake user_id) override;

  /// The database file's full path.
  const std::filesystem::path& path() const { return path_; }
  /// The schema version this build writes (PRAGMA user_version after open).
  static int latest_schema_version();

  struct impl;  // the connection and its cached statements (sqlite_store.cpp)

private:
  sqlite_store(std::filesystem::path path, std::unique_ptr<impl> writer,
               std::unique_ptr<impl> reader);

  std::filesystem::path path_;
  std::mutex mutex_;  // guards impl_: one write at a time on the writer connection
  std::unique_ptr<impl> impl_;
  std::mutex read_mutex_;  // guards reader_: one read at a time on the reader connection
  std::unique_ptr<impl> reader_;
};

}  // namespace herald::store
