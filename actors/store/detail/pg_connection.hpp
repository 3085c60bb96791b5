// SPDX-License-Identifier: Apache-2.0
#pragma once
// One of postgres_store's connections (the writer or the reader) with its reconnect policy.
// Owned by one postgres_store; used only under the mutex that store keeps for it.
// Invariant: conn_ is either null or a connection on which every statement is prepared and
// libpqxx's silent reactivation is off (a connection lost inside a transaction must never
// come back in autocommit mode and run the rest of the transaction's statements alone).

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include <pqxx/connection>
#include <pqxx/transaction_base>

#include "actors/store/detail/pg_errors.hpp"
#include "actors/store/postgres_store.hpp"

namespace herald::store {

class postgres_store::connection_slot {
public:
  /// `session_sql` (may be empty) runs on every new connection before the statements are
  /// prepared: session settings that every call on this slot relies on.
  connection_slot(std::string conninfo, std::string description, int attempts,
                  std::chrono::milliseconds pause, std::string session_sql = {});

  /// Connects when there is no connection and prepares the statements. Error: busy with
  /// libpq's message (server down, refused, authentication failed).
  result<void> connect();

  /// Runs body(connection) (which returns result<T> and may throw libpqxx exceptions) up to
  /// the configured attempts. A try that fails with a retryable error (a lost connection, a
  /// serialization failure or deadlock: the server rolled the transaction back, so nothing of
  /// it committed) pauses, reconnects if needed and runs the body again. in_doubt and every
  /// other error end the call. After a failed try on a live connection any open transaction
  /// is rolled back.
  template <class T, class Body>
  result<T> run(std::string_view what, Body&& body) {
    store_error last{store_errc::busy, std::string(what) + ": no attempt made"};
    for (int attempt = 0; attempt < attempts_; ++attempt) {
      if (attempt > 0) {
        std::this_thread::sleep_for(pause_ * (1 << (attempt - 1)));
      }
      if (auto connected = connect(); !connected) {
        last = connected.error();
        continue;
      }
      detail::pg_failure failure;
      try {
        return body(*conn_);
      } catch (...) {
        failure = detail::classify_current(what);
      }
      after_failure(failure.lost_);
      last = failure.error_;
      if (!last.retryable()) {
        return last;
      }
    }
    return last;
  }

  /// Drops the connection (after a loss); the next run() reconnects.
  void drop();
  const std::string& description() const { return description_; }

private:
  void after_failure(bool lost);

  std::string conninfo_;
  std::string description_;
  int attempts_;
  std::chrono::milliseconds pause_;
  std::string session_sql_;
  std::unique_ptr<pqxx::connection> conn_;
};

namespace detail {

/// Sends COMMIT through `tx`; a connection lost while COMMIT is under way becomes
/// pqxx::in_doubt_error (the server may have committed).
void commit_or_in_doubt(pqxx::transaction_base& tx);

}  // namespace detail

}  // namespace herald::store
