// SPDX-License-Identifier: Apache-2.0
#include "actors/store/detail/pg_connection.hpp"

#include <pqxx/except>
#include <pqxx/nontransaction>

#include "actors/store/detail/pg_statements.hpp"
#include "runtime/metrics/metrics.hpp"

namespace herald::store {

namespace {

metrics::counter& connections_lost() {
  static auto& c = metrics::registry::global().get_counter(
      "herald_store_connections_lost_total",
      "Store connections dropped after a loss (the next call reconnects)",
      {{"backend", "postgres"}});
  return c;
}

}  // namespace

postgres_store::connection_slot::connection_slot(std::string conninfo, std::string description,
                                                 int attempts, std::chrono::milliseconds pause,
                                                 std::string session_sql)
    : conninfo_(std::move(conninfo)),
      description_(std::move(description)),
      attempts_(attempts < 1 ? 1 : attempts),
      pause_(pause),
      session_sql_(std::move(session_sql)) {}

result<void> postgres_store::connection_slot::connect() {
  if (conn_ != nullptr) {
    return {};
  }
  try {
    auto conn = std::make_unique<pqxx::connection>(conninfo_);
    // libpqxx 6 would otherwise reopen a lost connection by itself on the next statement, in
    // autocommit mode, in the middle of what was our transaction.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    conn->inhibit_reactivation(true);
#pragma GCC diagnostic pop
    {
      // Our ROLLBACK after a failure and the migrations' IF NOT EXISTS raise warnings and
      // notices that libpq would print on stderr; errors still arrive as errors.
      pqxx::nontransaction tx(*conn);
      tx.exec("SET client_min_messages TO error");
      if (!session_sql_.empty()) {
        tx.exec(session_sql_);
      }
    }
    detail::prepare_statements(*conn);
    conn_ = std::move(conn);
    return {};
  } catch (...) {
    auto failure = detail::classify_current("cannot connect");
    if (failure.error_.code_ == store_errc::internal) {
      failure.error_.code_ = store_errc::busy;  // e.g. a refused connection, retry later
    }
    return failure.error_;
  }
}

void postgres_store::connection_slot::drop() {
  if (conn_ != nullptr) {
    connections_lost().inc();
  }
  conn_.reset();
}

void postgres_store::connection_slot::after_failure(bool lost) {
  if (lost || conn_ == nullptr) {
    drop();
    return;
  }
  try {
    pqxx::nontransaction tx(*conn_);
    tx.exec("ROLLBACK");  // a notice, not an error, when no transaction is open
  } catch (...) {
    drop();
  }
}

namespace detail {

void commit_or_in_doubt(pqxx::transaction_base& tx) {
  try {
    tx.exec("COMMIT");
  } catch (const pqxx::broken_connection& e) {
    throw pqxx::in_doubt_error(e.what());
  } catch (const pqxx::sql_error& e) {
    // A backend terminated while committing (57P01 ...) may have committed first. Any other
    // error of COMMIT (a serialization failure, a deferred constraint) means rolled back.
    if (means_connection_lost(e.sqlstate())) {
      throw pqxx::in_doubt_error(e.what());
    }
    throw;
  }
}

}  // namespace detail

}  // namespace herald::store
