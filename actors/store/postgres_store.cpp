// SPDX-License-Identifier: Apache-2.0
// postgres_store: opening (connections, migrations), group commit, the token epoch bump.
#include "actors/store/postgres_store.hpp"

#include <optional>

#include <pqxx/except>
#include <pqxx/nontransaction>

#include "actors/store/detail/pg_connection.hpp"
#include "actors/store/detail/pg_conninfo.hpp"
#include "actors/store/detail/pg_owners.hpp"
#include "actors/store/detail/pg_reader_pool.hpp"
#include "actors/store/detail/pg_schema.hpp"
#include "actors/store/detail/pg_statements.hpp"
#include "actors/store/detail/pg_store_metrics.hpp"
#include "runtime/base/thread_role.hpp"

namespace herald::store {

namespace {

using detail::pg_store_metrics;

/// One try of a group commit on `conn`. results[i] answers batches[i]; the returned error is
/// the transaction's (commit) error, which the caller spreads over the batches that had not
/// failed. Throws libpqxx exceptions for transaction-wide failures (connection, deadlock).
struct group_commit {
  const std::vector<const write_batch*>& batches_;
  std::vector<result<void>>& results_;

  // Runs the round's fences (one statement), then every op of every batch that still owns its
  // guild; false as soon as an op fails for its own data (then the transaction is aborted and
  // must be rolled back). A fenced batch is answered `fenced` and none of its ops run.
  bool run_all(pqxx::transaction_base& tx) {
    try {
      std::vector<std::optional<store_error>> fenced;
      detail::pg_record_fences(tx, batches_, fenced);
      detail::op_sequence ops(tx);
      for (std::size_t i = 0; i < batches_.size(); ++i) {
        if (fenced[i]) {
          results_[i] = *fenced[i];
          continue;
        }
        for (const auto& op : batches_[i]->ops()) {
          if (!ops.run(op)) {
            return false;
          }
        }
      }
      ops.finish();
      return true;
    } catch (const pqxx::sql_error& e) {
      if (detail::is_statement_failure(e.sqlstate())) {
        return false;
      }
      throw;
    }
  }

  // Runs batch i inside its own savepoint; its failure rolls back only that savepoint.
  void run_one(pqxx::transaction_base& tx, std::size_t i) {
    tx.exec("SAVEPOINT batch");
    results_[i] = result<void>{};
    try {
      results_[i] = detail::pg_record_fence(tx, *batches_[i]);
      detail::op_sequence ops(tx);
      for (const auto& op : batches_[i]->ops()) {
        if (!results_[i]) {
          break;  // fenced: nothing of it runs
        }
        if (auto r = ops.run(op); !r) {
          results_[i] = r;
          break;
        }
      }
      if (results_[i]) {
        ops.finish();
      }
    } catch (const pqxx::sql_error& e) {
      if (!detail::is_statement_failure(e.sqlstate())) {
        throw;
      }
      results_[i] = detail::classify_current("apply").error_;
    }
    tx.exec(results_[i] ? "RELEASE SAVEPOINT batch" : "ROLLBACK TO SAVEPOINT batch");
  }

  result<void> operator()(pqxx::connection& conn) {
    results_.assign(batches_.size(), result<void>{});
    pqxx::nontransaction tx(conn);
    tx.exec("BEGIN");
    // The common case: every batch is fine, one transaction without subtransactions.
    if (!run_all(tx)) {
      // Some batch failed: run them again, each in its own savepoint.
      tx.exec("ROLLBACK");
      tx.exec("BEGIN");
      for (std::size_t i = 0; i < batches_.size(); ++i) {
        run_one(tx, i);
      }
    }
    detail::commit_or_in_doubt(tx);
    return {};
  }
};

}  // namespace

postgres_store::postgres_store(postgres_options options, std::string description,
                               std::unique_ptr<connection_slot> writer,
                               std::unique_ptr<reader_pool> readers)
    : options_(std::move(options)),
      description_(std::move(description)),
      writer_(std::move(writer)),
      readers_(std::move(readers)) {}

postgres_store::~postgres_store() = default;

int postgres_store::latest_schema_version() {
  return detail::pg_latest_schema_version();
}

result<std::unique_ptr<postgres_store>> postgres_store::open(const postgres_options& options) {
  auto info = detail::make_conninfo(options.url_, options.password_);
  if (!info) {
    return pg_store_metrics::counted(result<std::unique_ptr<postgres_store>>(info.error()));
  }
  // Named references, not a structured binding: a lambda may not capture a binding in C++17.
  const auto& conninfo = info.value().conninfo_;
  const auto& description = info.value().description_;
  auto fail = [&](store_error error) -> result<std::unique_ptr<postgres_store>> {
    error.message_ = description + ": " + error.message_;
    pg_store_metrics::count_error(error);
    return error;
  };
  auto writer = std::make_unique<connection_slot>(conninfo, description, options.attempts_,
                                                  options.retry_pause_);
  auto migrated =
      writer->run<int>("migrate", [](pqxx::connection& conn) { return detail::pg_migrate(conn); });
  if (!migrated) {
    return fail(migrated.error());
  }
  // The first reader connects now, so that a server refusing a second connection fails the
  // open; the others connect on their first use (a quiet node holds only what it uses).
  std::vector<std::unique_ptr<connection_slot>> slots;
  const int readers = options.readers_ < 1 ? 1 : options.readers_;
  for (int i = 0; i < readers; ++i) {
    slots.push_back(std::make_unique<connection_slot>(conninfo, description, options.attempts_,
                                                      options.retry_pause_,
                                                      detail::reader_session_sql));
  }
  if (auto r = slots.front()->run<bool>("connect reader", [](pqxx::connection&) { return true; });
      !r) {
    return fail(r.error());
  }
  auto pool = std::make_unique<reader_pool>(std::move(slots), options.reader_wait_);
  return std::unique_ptr<postgres_store>(
      new postgres_store(options, description, std::move(writer), std::move(pool)));
}

result<void> postgres_store::apply(const write_batch& batch) {
  auto results = apply_group({&batch});
  return std::move(results.front());
}

std::vector<result<void>> postgres_store::apply_group(
    const std::vector<const write_batch*>& batches) {
  HERALD_EXPECTS_NOT_IO_THREAD();  // blocking: never on an io thread
  std::vector<const write_batch*> work;
  work.reserve(batches.size());
  for (const write_batch* b : batches) {
    if (!b->empty()) {
      work.push_back(b);
    }
  }
  std::vector<result<void>> results(batches.size());
  if (work.empty()) {
    return results;
  }
  auto& m = pg_store_metrics::get();
  const auto started = std::chrono::steady_clock::now();
  std::vector<result<void>> work_results;
  result<void> committed = [&] {
    std::lock_guard<std::mutex> guard(write_mutex_);
    return writer_->run<void>("apply", group_commit{work, work_results});
  }();
  // Map the non-empty batches' answers back to their positions.
  std::size_t next = 0;
  std::size_t batches_ok = 0;
  std::size_t ops_ok = 0;
  for (std::size_t i = 0; i < batches.size(); ++i) {
    if (batches[i]->empty()) {
      continue;
    }
    const std::size_t w = next++;
    if (!committed) {
      // The commit's error for every batch that had not failed on its own.
      results[i] = w < work_results.size() && !work_results[w] ? work_results[w] : committed;
    } else {
      results[i] = std::move(work_results[w]);
    }
    if (results[i]) {
      ++batches_ok;
      ops_ok += batches[i]->size();
    } else {
      pg_store_metrics::count_error(results[i].error());
    }
  }
  if (batches_ok > 0) {
    m.batches_.inc(batches_ok);
    m.ops_.inc(ops_ok);
    m.commit_seconds_.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  return results;
}

result<std::uint64_t> postgres_store::bump_token_epoch(snowflake user_id) {
  HERALD_EXPECTS_NOT_IO_THREAD();  // blocking: never on an io thread
  std::lock_guard<std::mutex> guard(write_mutex_);
  return pg_store_metrics::counted(writer_->run<std::uint64_t>(
      "bump token epoch", [&](pqxx::connection& conn) -> result<std::uint64_t> {
        pqxx::nontransaction tx(conn);
        tx.exec("BEGIN");
        auto user =
            tx.exec_prepared(detail::pg::select_token_epoch, static_cast<std::int64_t>(user_id));
        if (user.empty()) {
          tx.exec("ROLLBACK");
          return store_error{store_errc::not_found, "no user " + std::to_string(user_id)};
        }
        auto bumped =
            tx.exec_prepared(detail::pg::bump_token_epoch, static_cast<std::int64_t>(user_id));
        const auto epoch = static_cast<std::uint64_t>(bumped[0][0].as<std::int64_t>());
        detail::commit_or_in_doubt(tx);
        return epoch;
      }));
}

result<guild_owner> postgres_store::claim_guild(snowflake guild_id, std::uint64_t node_id) {
  return std::move(claim_guilds({guild_id}, node_id).front());
}

std::vector<result<guild_owner>> postgres_store::claim_guilds(
    const std::vector<snowflake>& guild_ids, std::uint64_t node_id) {
  HERALD_EXPECTS_NOT_IO_THREAD();  // blocking: never on an io thread
  std::lock_guard<std::mutex> guard(write_mutex_);
  using claims = std::vector<result<guild_owner>>;
  auto done = pg_store_metrics::counted(
      writer_->run<claims>("claim guilds", [&](pqxx::connection& conn) -> result<claims> {
        return detail::pg_claim_guilds(conn, guild_ids, node_id);
      }));
  if (!done) {
    return claims(guild_ids.size(), result<guild_owner>{done.error()});
  }
  return std::move(done.value());
}

result<void> postgres_store::analyze() {
  HERALD_EXPECTS_NOT_IO_THREAD();  // blocking: never on an io thread
  std::lock_guard<std::mutex> guard(write_mutex_);
  return pg_store_metrics::counted(
      writer_->run<void>("analyze", [](pqxx::connection& conn) -> result<void> {
        pqxx::nontransaction tx(conn);
        tx.exec("ANALYZE");  // the current database's tables this role may analyze
        return {};
      }));
}

}  // namespace herald::store
