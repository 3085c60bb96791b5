// SPDX-License-Identifier: Apache-2.0
#pragma once
// The PostgreSQL server of a bench run with `--store postgres`: the one at --postgres-url, or
// without a URL a throwaway local PostgreSQL 15 (tools/local-postgres, PostgreSQL's durable
// defaults: fsync and synchronous_commit on) started for the run and stopped with this object.
// Owned by the bench's main thread; construct it before any other thread starts (it blocks
// SIGINT and SIGTERM for the threads to come).
//
// An interrupted run (SIGINT, SIGTERM) still stops its local server: a watcher thread waits for
// those signals, stops the server and exits with 128 + the signal. SIGKILL cannot be caught: a
// server left behind then is stopped with `pg_ctl -D <its temp dir>/data stop`.

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "tools/local-postgres/local_postgres.hpp"

namespace herald::bench {

class bench_postgres {
public:
  /// `url` empty: starts a local server with a fresh database (throws std::runtime_error with
  /// the server's log when it cannot start); else uses `url` as given.
  explicit bench_postgres(const std::string& url);
  ~bench_postgres();  ///< stops the watcher, then the local server
  bench_postgres(const bench_postgres&) = delete;
  bench_postgres& operator=(const bench_postgres&) = delete;

  const std::string& url() const { return url_; }
  /// True when this run started the server itself (its CPU is then measurable).
  bool local() const { return server_ != nullptr; }
  /// User + system CPU seconds of the local server so far: the postmaster and every live
  /// child (backends, WAL writer, checkpointer...). 0 for a server at a given URL.
  double server_cpu_s() const;

private:
  void watch_signals();

  std::unique_ptr<tools::local_postgres_server> server_;
  std::string url_;
  std::atomic<bool> done_{false};
  std::thread watcher_;  // only with a local server
};

}  // namespace herald::bench
