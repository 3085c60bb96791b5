// SPDX-License-Identifier: Apache-2.0
#pragma once
// A real PostgreSQL 15 server for tests: its own cluster in a temp dir, listening on 127.0.0.1 at
// a free port (unix socket inside the temp dir), trust authentication for the superuser
// `herald`, stopped and removed with the object. As root (CI on Debian 12) initdb and postgres
// run as the unprivileged system user `herald-test` (created when missing), since both refuse
// root. Used from the test's main thread.
// Invariant: a constructed server is running and accepts connections; failures throw
// std::runtime_error with the server's output, so a test that needs PostgreSQL fails loudly
// and never skips.
//
// For speed the test cluster runs with fsync=off and full_page_writes=off: its data does not
// survive a power loss, which no test needs. Never use these settings for a real cluster. And
// initdb runs once per machine: every server copies that cluster template
// ($TMPDIR/herald-pg15-template-v1-<uid>, made under a lock, kept between runs).

#include <cstdint>
#include <string>

#include "test/support/temp_dir.hpp"

namespace herald::testing {

class postgres_server {
public:
  postgres_server();   ///< initdb + start; throws std::runtime_error (with the log) on failure
  ~postgres_server();  ///< immediate shutdown; the cluster's files go with the temp dir
  postgres_server(const postgres_server&) = delete;
  postgres_server& operator=(const postgres_server&) = delete;

  /// `postgresql://herald@127.0.0.1:<port>/<database>`.
  std::string url(const std::string& database = "postgres") const;
  std::uint16_t port() const noexcept { return port_; }

  /// Creates an empty database with a fresh unique name and returns that name.
  std::string create_database();
  /// Runs one SQL command as the superuser in `database` through psql; returns its unaligned
  /// output (rows, one a line). Throws std::runtime_error when psql fails.
  std::string psql(const std::string& database, const std::string& sql) const;

  /// `pg_ctl stop -m fast` (clients are disconnected), then `start` again on the same port.
  void stop();
  void start();
  bool running() const noexcept { return running_; }

  /// The server log so far (for failure messages).
  std::string log() const;

private:
  temp_dir dir_;
  std::uint16_t port_ = 0;
  bool running_ = false;
  int next_database_ = 0;
};

/// One server per test process, started on first use and stopped at exit: the PostgreSQL
/// variants of the store tests share it, each on its own database (create_database()).
postgres_server& shared_postgres_server();

}  // namespace herald::testing
