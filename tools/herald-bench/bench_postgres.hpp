// SPDX-License-Identifier: Apache-2.0
#pragma once
// The PostgreSQL server of a bench run with `--store postgres`: the one at --postgres-url, or
// without a URL a throwaway local PostgreSQL 15 (tools/local-postgres, PostgreSQL's durable
// defaults: fsync and synchronous_commit on) started for the run and stopped with this object.
// Owned by the bench's main thread.

#include <memory>
#include <string>

#include "tools/local-postgres/local_postgres.hpp"

namespace herald::bench {

class bench_postgres {
public:
  /// `url` empty: starts a local server with a fresh database (throws std::runtime_error with
  /// the server's log when it cannot start); else uses `url` as given.
  explicit bench_postgres(const std::string& url);

  const std::string& url() const { return url_; }
  /// True when this run started the server itself (its CPU is then measurable).
  bool local() const { return server_ != nullptr; }
  /// User + system CPU seconds of the local server so far: the postmaster and every live
  /// child (backends, WAL writer, checkpointer...). 0 for a server at a given URL.
  double server_cpu_s() const;

private:
  std::unique_ptr<tools::local_postgres_server> server_;
  std::string url_;
};

}  // namespace herald::bench
