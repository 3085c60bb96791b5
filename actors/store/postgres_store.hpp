// SPDX-License-Identifier: Apache-2.0
#pragma once
// The clustered store: PostgreSQL (libpqxx 6.4 over libpq), reachable from every node, same
// interface and semantics as sqlite_store. One object per node, shared by its guild actors; any
// thread except an io thread may call it.
// Invariant: when a write returns success its transaction is committed (durable as the server's
// synchronous_commit makes it); a batch is all-or-nothing.
//
// Connections: one writer connection (apply, apply_group, bump_token_epoch) under a mutex held
// for a whole call, and a pool of `readers_` reader connections (every read; a read leases one
// for its whole call, detail/pg_reader_pool.hpp), so reads from several threads run in parallel
// and never wait behind a commit. A read sees every commit that returned before it started.
//
// Errors (docs/store.md#semantics-and-errors): unique and other integrity violations are
// `constraint`; serialization failures, deadlocks, a server shutting down and lost connections are
// `busy` (retryable). A call that finds its connection lost reconnects and retries at most
// `attempts_` times with a growing pause, but only while nothing can have committed: a
// connection lost during COMMIT is `in_doubt` (the write may or may not be durable) and is
// never retried by the store.
//
// apply_group: one transaction per call. It first runs every batch without savepoints (one
// round of statements, no subtransactions); only when an op fails does it roll back and run
// again with a SAVEPOINT per batch, so that the failing batch alone is rolled back.

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "actors/store/store.hpp"

namespace herald::store {

struct postgres_options {
  /// libpq connection string or URI, e.g. postgresql://herald@127.0.0.1:5432/herald.
  std::string url_;
  /// Sent as the connection's password when non-empty (read from a file by the caller, never
  /// taken from a command line).
  std::string password_;
  /// Connection attempts per call when the connection is lost (at least 1).
  int attempts_ = 3;
  /// Pause before the second attempt; doubled for each further one.
  std::chrono::milliseconds retry_pause_{100};
  /// Reader connections (store.postgres_readers, at least 1): how many reads run on the server
  /// at once. The node holds readers_ + 1 connections.
  int readers_ = 4;
  /// How long a read waits for a reader connection when all are busy before failing busy.
  std::chrono::milliseconds reader_wait_{30000};
};

class postgres_store final : public store {
public:
  /// Connects (the writer and the first reader; the other readers connect on first use),
  /// applies missing migrations under an advisory lock (several
  /// nodes may start at once) and prepares the statements.
  /// Errors: invalid_argument (malformed URL), busy (cannot connect: server down or
  /// refusing), schema_too_new, internal.
  static result<std::unique_ptr<postgres_store>> open(const postgres_options& options);

  ~postgres_store() override;
  postgres_store(const postgres_store&) = delete;
  postgres_store& operator=(const postgres_store&) = delete;

  result<void> apply(const write_batch& batch) override;
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

  /// Refreshes the server's planner statistics of every herald table (ANALYZE), on the writer
  /// connection. Call it after a bulk load (a seeded bench, a store copy): until autovacuum has
  /// analyzed the new rows, the planner guesses row counts and load_guild's member query joins
  /// by a sequential scan of every user instead of one index lookup per member.
  /// Errors: busy (connection), internal.
  result<void> analyze();

  /// The schema version this build writes.
  static int latest_schema_version();
  /// The server and database, without password, for logs ("127.0.0.1:5432/herald as herald").
  const std::string& description() const { return description_; }

  class connection_slot;  // one connection with reconnect (detail/pg_connection.hpp)
  class reader_pool;      // the reader connections (detail/pg_reader_pool.hpp)

private:
  postgres_store(postgres_options options, std::string description,
                 std::unique_ptr<connection_slot> writer, std::unique_ptr<reader_pool> readers);

  postgres_options options_;
  std::string description_;
  std::mutex write_mutex_;  // guards writer_
  std::unique_ptr<connection_slot> writer_;
  std::unique_ptr<reader_pool> readers_;  // thread-safe itself
};

}  // namespace herald::store
