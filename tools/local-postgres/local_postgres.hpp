// SPDX-License-Identifier: Apache-2.0
#pragma once
// A throwaway local PostgreSQL 15 server: its own cluster in a private temp dir, listening on
// 127.0.0.1 at a free port (unix socket inside the temp dir), trust authentication for the
// superuser `herald`, stopped (immediate shutdown) and removed with the object. Used by the
// tests (test/support/postgres_server.hpp) and by herald-bench (--store postgres without
// --postgres-url); it includes no herald component, so both may link it.
//
// As root (CI on Debian 12) initdb and postgres run as the unprivileged system user
// `herald-test` (created when missing), since both refuse root. One thread uses an object.
// Invariant: a constructed server is running and accepts connections; failures throw
// std::runtime_error with the server's output, so a caller that needs PostgreSQL fails loudly.
//
// initdb runs once per machine (and server user): every server copies that cluster template
// ($TMPDIR/herald-pg15-template-v1-<uid>, made under a lock, kept between runs).

#include <cstdint>
#include <filesystem>
#include <string>

namespace herald::tools {

struct local_postgres_options {
  /// false (tests): fsync=off and full_page_writes=off, fast and not crash-safe; never for a
  /// measurement. true (benches): PostgreSQL's defaults (fsync on, synchronous_commit on), what
  /// a real deployment runs.
  bool durable_ = true;
  /// Extra postgresql.conf lines (e.g. "shared_preload_libraries = 'pg_stat_statements'").
  std::string extra_conf_;
};

class local_postgres_server {
public:
  /// Copies the template cluster and starts it; throws std::runtime_error (with the log).
  explicit local_postgres_server(const local_postgres_options& options = {});
  ~local_postgres_server();  ///< immediate shutdown; the cluster's files go with the temp dir
  local_postgres_server(const local_postgres_server&) = delete;
  local_postgres_server& operator=(const local_postgres_server&) = delete;

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

  /// The postmaster's pid (its backends are its children), 0 when stopped.
  int postmaster_pid() const;
  /// The server log so far (for failure messages).
  std::string log() const;

private:
  std::string file(const std::string& name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  bool running_ = false;
  int next_database_ = 0;
};

}  // namespace herald::tools
