// SPDX-License-Identifier: Apache-2.0
// sqlite_store: opening (pragmas, migrations), batched apply, and reads.
#include "actors/store/sqlite_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <sstream>
#include <system_error>
#include <unordered_map>

#include "actors/store/detail/sqlite_impl.hpp"
#include "actors/store/detail/sqlite_schema.hpp"
#include "runtime/base/thread_role.hpp"
#include "runtime/metrics/metrics.hpp"

namespace herald::store {

namespace {

using detail::each_row;
using detail::statement;

struct store_metrics {
  metrics::counter& batches_;
  metrics::counter& ops_;
  metrics::counter& commits_;
  metrics::histogram& commit_seconds_;

  static store_metrics& get() {
    auto& reg = metrics::registry::global();
    const metrics::labels l{{"backend", "sqlite"}};
    static store_metrics m{
        reg.get_counter("herald_store_batches_total", "Write batches committed", l),
        reg.get_counter("herald_store_ops_total", "Write ops committed", l),
        reg.get_counter("herald_store_commits_total",
                        "Write transactions committed (a group commit of many batches is one)", l),
        reg.get_histogram("herald_store_commit_seconds",
                          "Time to apply and commit one write transaction (one batch, or a group)",
                          l)};
    return m;
  }

  static void count_error(const store_error& error) {
    metrics::registry::global()
        .get_counter("herald_store_errors_total", "Store calls that failed",
                     {{"backend", "sqlite"}, {"code", to_string(error.code_)}})
        .inc();
  }
};

// Whether every op of a non-empty batch inserts a new message (the multi-row fast path).
bool only_message_inserts(const write_batch& batch) {
  return !batch.empty() && std::all_of(batch.ops().begin(), batch.ops().end(), [](const auto& op) {
    return std::holds_alternative<write_op::insert_message>(op);
  });
}

template <class T>
result<T> counted(result<T> r) {
  if (!r) {
    store_metrics::count_error(r.error());
  }
  return r;
}

std::vector<snowflake> split_ids(const std::string& text) {
  std::vector<snowflake> out;
  std::istringstream in(text);
  snowflake id = 0;
  while (in >> id) {
    out.push_back(id);
  }
  return out;
}

domain::message read_message(const statement& q) {
  domain::message m;
  m.id_ = q.column_id(0);
  m.channel_id_ = q.column_id(1);
  m.guild_id_ = q.column_id(2);
  m.author_id_ = q.column_id(3);
  m.content_ = q.column_text(4);
  m.created_at_ = q.column_int(5);
  m.edited_at_ = q.column_int(6);
  m.deleted_ = q.column_int(7) != 0;
  m.mentions_ = split_ids(q.column_text(8));
  m.mention_roles_ = split_ids(q.column_text(9));
  m.mention_everyone_ = q.column_int(10) != 0;
  return m;
}

result<void> configure(sqlite3* db, const sqlite_options& options) {
  sqlite3_busy_timeout(db, static_cast<int>(options.busy_timeout_.count()));
  // The first statement reads the file header: a non-database fails here.
  statement wal;
  if (auto r = wal.prepare(db, "PRAGMA journal_mode = WAL"); !r) {
    return r;
  }
  auto row = wal.start().step("enable WAL");
  if (!row) {
    return row.error();
  }
  const std::string mode = row.value() ? wal.column_text(0) : std::string();
  wal.finish();
  if (mode != "wal") {
    return store_error{store_errc::io_error, "cannot enable WAL journal (got '" + mode + "')"};
  }
  const char* sync = options.sync_ == sync_mode::full ? "PRAGMA synchronous = FULL"
                                                      : "PRAGMA synchronous = NORMAL";
  if (auto r = detail::exec(db, sync, "set synchronous"); !r) {
    return r;
  }
  if (auto r = detail::exec(db, "PRAGMA cache_size = -65536", "set cache size"); !r) {
    return r;
  }
  return detail::exec(db, "PRAGMA temp_store = MEMORY", "set temp store");
}

}  // namespace

sqlite_store::impl::~impl() {
  sqlite3_close_v2(db_);  // deferred until the statement members are finalized
}

sqlite_store::sqlite_store(std::filesystem::path path, std::unique_ptr<impl> writer,
                           std::unique_ptr<impl> reader)
    : path_(std::move(path)), impl_(std::move(writer)), reader_(std::move(reader)) {}

sqlite_store::~sqlite_store() = default;

int sqlite_store::latest_schema_version() {
  return detail::latest_schema_version();
}

result<std::unique_ptr<sqlite_store>> sqlite_store::open(const sqlite_options& options) {
  if (options.data_dir_.empty() || options.file_name_.empty()) {
    return store_error{store_errc::invalid_argument, "sqlite store needs a data dir and file"};
  }
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir_, ec);
  if (ec) {
    return store_error{store_errc::io_error, "cannot create data dir " +
                                                 options.data_dir_.string() + ": " + ec.message()};
  }
  auto path = options.data_dir_ / options.file_name_;
  // Messages are private: create the file owner-only (0600) whatever the umask. SQLite creates
  // the -wal and -shm files with the database file's permission bits, so they follow.
  if (int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600); fd >= 0) {
    ::close(fd);
  }
  auto state = std::make_unique<impl>();
  const int rc =
      sqlite3_open_v2(path.c_str(), &state->db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  auto fail = [&](store_error error) -> result<std::unique_ptr<sqlite_store>> {
    error.message_ = path.string() + ": " + error.message_;
    store_metrics::count_error(error);
    return error;
  };
  if (rc != SQLITE_OK) {
    return fail(detail::sqlite_error(state->db_, rc, "open"));
  }
  if (auto r = configure(state->db_, options); !r) {
    return fail(r.error());
  }
  if (auto r = detail::migrate(state->db_); !r) {
    return fail(r.error());
  }
  if (auto r = state->prepare_all(); !r) {
    return fail(r.error());
  }
  // The reader: opened after the migrations, on the same file; query_only keeps it a reader.
  auto reader = std::make_unique<impl>();
  const int reader_rc = sqlite3_open_v2(path.c_str(), &reader->db_,
                                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (reader_rc != SQLITE_OK) {
    return fail(detail::sqlite_error(reader->db_, reader_rc, "open reader"));
  }
  if (auto r = configure(reader->db_, options); !r) {
    return fail(r.error());
  }
  if (auto r = detail::exec(reader->db_, "PRAGMA query_only = 1", "reader query_only"); !r) {
    return fail(r.error());
  }
  if (auto r = reader->prepare_all(); !r) {
    return fail(r.error());
  }
  return std::unique_ptr<sqlite_store>(
      new sqlite_store(std::move(path), std::move(state), std::move(reader)));
}

result<void> sqlite_store::apply(const write_batch& batch) {
  HERALD_EXPECTS_NOT_IO_THREAD();  // blocking: never on an io thread
  if (batch.empty()) {
    return {};
  }
  auto& m = store_metrics::get();
  const auto started = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> guard(mutex_);
  auto& s = *impl_;
  if (auto r = s.begin_.start().run("begin"); !r) {
    return counted(result<void>(r.error()));
  }
  if (auto r = s.check_fence(batch); !r) {
    (void)s.rollback_.start().run("rollback");
    return counted(r);
  }
  for (const auto& op : batch.ops()) {
    if (auto r = s.run(op); !r) {
      // Rollback cannot fail in a way we could act on; the op's error wins.
      (void)s.rollback_.start().run("rollback");
      return counted(r);
    }
  }
  if (auto r = s.record_fence(batch); !r) {
    (void)s.rollback_.start().run("rollback");
    return counted(r);
  }
  if (auto r = s.commit_.start().run("commit"); !r) {
    (void)s.rollback_.start().run("rollback");
    return counted(result<void>(r.error()));
  }
  m.batches_.inc();
  m.ops_.inc(batch.size());
  m.commits_.inc();
  m.commit_seconds_.observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return {};
}

std::vector<result<void>> sqlite_store::apply_group(
    const std::vector<const write_batch*>& batches) {
  HERALD_EXPECTS_NOT_IO_THREAD();  // blocking: never on an io thread
  std::vector<result<void>> results(batches.size());
  if (batches.empty()) {
    return results;
  }
  auto& m = store_metrics::get();
  const auto started = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> guard(mutex_);
  auto& s = *impl_;
  // Fails every batch that has not failed on its own (nothing of them is written).
  auto fail_rest = [&](const store_error& error) {
    for (auto& r : results) {
      if (r) {
        r = error;
        store_metrics::count_error(error);
      }
    }
    return std::move(results);
  };
  if (auto r = s.begin_.start().run("begin"); !r) {
    return fail_rest(r.error());
  }
  // Fences first: the transaction holds the file's write lock, so no claim can move an epoch
  // before COMMIT. A fenced batch is replaced by an empty one (nothing of it is written) and
  // answered `fenced`; the others go on as if it were not there.
  static const write_batch no_writes;
  std::vector<const write_batch*> todo(batches);
  for (std::size_t k = 0; k < batches.size(); ++k) {
    if (batches[k]->empty()) {
      continue;
    }
    if (auto checked = s.check_fence(*batches[k]); !checked) {
      if (checked.error().code_ != store_errc::fenced) {
        (void)s.rollback_.start().run("rollback");
        return fail_rest(checked.error());
      }
      results[k] = counted(checked);
      todo[k] = &no_writes;
    }
  }
  std::size_t ops = 0;
  std::size_t applied = 0;
  // One batch inside its own SAVEPOINT: all of it or (on an op's error) none of it. Returns an
  // error only when the whole transaction is lost (then nothing of the round commits).
  auto apply_alone = [&](std::size_t i) -> std::optional<store_error> {
    const write_batch& batch = *todo[i];
    if (batch.empty()) {
      return std::nullopt;
    }
    if (auto r = s.savepoint_.start().run("savepoint"); !r) {
      (void)s.rollback_.start().run("rollback");
      return r.error();
    }
    result<void> failed;
    for (const auto& op : batch.ops()) {
      if (failed = s.run(op); !failed) {
        break;
      }
    }
    if (failed) {
      if (auto r = s.release_.start().run("release"); !r) {
        (void)s.rollback_.start().run("rollback");
        return r.error();
      }
      ops += batch.size();
      ++applied;
      return std::nullopt;
    }
    // Some errors (I/O, disk full) make SQLite roll back the whole transaction itself: then
    // nothing of the earlier batches survives either.
    results[i] = counted(failed);
    if (sqlite3_get_autocommit(s.db_) != 0) {
      return failed.error();
    }
    auto undone = s.rollback_to_.start().run("rollback to savepoint");
    if (undone) {
      undone = s.release_.start().run("release");
    }
    if (!undone) {
      (void)s.rollback_.start().run("rollback");
      return undone.error();
    }
    return std::nullopt;
  };
  std::size_t i = 0;
  while (i < todo.size()) {
    // The common round is many small batches of new messages: a run of consecutive such
    // batches goes in as ONE multi-row INSERT, without savepoints. A statement is atomic in
    // SQLite (a failing INSERT undoes its own rows and leaves the transaction open), so when
    // it fails nothing of the run was written and each batch of the run is retried alone
    // under its savepoint: a bad batch still fails only itself.
    std::size_t end = i;
    std::size_t rows = 0;
    while (end < todo.size() && only_message_inserts(*todo[end]) &&
           rows + todo[end]->size() <= impl::max_message_rows) {
      rows += todo[end]->size();
      ++end;
    }
    if (rows == 0) {
      if (auto lost = apply_alone(i)) {
        return fail_rest(*lost);
      }
      ++i;
      continue;
    }
    auto together = s.insert_messages(todo.data() + i, end - i, rows);
    if (together) {
      for (std::size_t k = i; k < end; ++k) {
        if (!todo[k]->empty()) {
          ops += todo[k]->size();
          ++applied;
        }
      }
    } else if (sqlite3_get_autocommit(s.db_) != 0) {
      return fail_rest(together.error());
    } else {
      for (std::size_t k = i; k < end; ++k) {
        if (auto lost = apply_alone(k)) {
          return fail_rest(*lost);
        }
      }
    }
    i = end;
  }
  // Each fenced batch that committed its ops sets its guild's last order, in this transaction.
  for (std::size_t k = 0; k < todo.size(); ++k) {
    if (results[k] && !todo[k]->empty()) {
      if (auto r = s.record_fence(*todo[k]); !r) {
        (void)s.rollback_.start().run("rollback");
        return fail_rest(r.error());
      }
    }
  }
  if (auto r = s.commit_.start().run("commit"); !r) {
    (void)s.rollback_.start().run("rollback");
    return fail_rest(r.error());
  }
  m.batches_.inc(applied);
  m.ops_.inc(ops);
  m.commits_.inc();
  m.commit_seconds_.observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return results;
}

result<std::vector<snowflake>> sqlite_store::list_guild_ids() {
  HERALD_EXPECTS_NOT_IO_THREAD();  // blocking: never on an io thread
  std::lock_guard<std::mutex> guard(read_mutex_);
  std::vector<snowflake> out;
  auto r = each_row(reader_->list_guilds_.start(), "list guilds",
                    [&](const statement& q) { out.push_back(q.column_id(0)); });
  if (!r) {
    return counted(result<std::vector<snowflake>>(r.error()));
  }
  return out;
}

result<std::vector<snowflake>> sqlite_store::guilds_of_user(snowflake user_id) {
  HERALD_EXPECTS_NOT_IO_THREAD();  // blocking: never on an io thread
  std::lock_guard<std::mutex> guard(read_mutex_);
  std::vector<snowflake> out;
  auto r = each_row(reader_->guilds_of_user_.start().bind_id(1, user_id), "guilds of user",
                    [&](const statement& q) { out.push_back(q.column_id(0)); });
  if (!r) {
    return counted(result<std::vector<snowflake>>(r.error()));
  }
  return out;
}

result<domain::user> sqlite_store::get_user(snowflake user_id) {
  HERALD_EXPECTS_NOT_IO_THREAD();  // blocking: never on an io thread
  std::lock_guard<std::mutex> guard(read_mutex_);
  std::optional<domain::user> found;
  auto r = each_row(reader_->select_user_.start().bind_id(1, user_id), "get user",
                    [&](const statement& q) {
                      found = domain::user{q.column_id(0), q.column_text(1), q.column_int(2) != 0};
                    });
  if (!r) {
    return counted(result<domain::user>(r.error()));
  }
  if (!found) {
    return store_error{store_errc::not_found, "no user " + std::to_string(user_id)};
  }
  return *found;
}

result<domain::message> sqlite_store::get_message(snowflake message_id) {
  HERALD_EXPECTS_NOT_IO_THREAD();  // blocking: never on an io thread
  std::lock_guard<std::mutex> guard(read_mutex_);
  std::optional<domain::message> found;
  auto r = each_row(reader_->select_message_.start().bind_id(1, message_id), "get message",
                    [&](const statement& q) { found = read_message(q); });
  if (!r) {
    return counted(result<domain::message>(r.error()));
  }
  if (!found) {
    return store_error{store_errc::not_found, "no message " + std::to_string(message_id)};
  }
  return std::move(*found);
}

result<std::vector<domain::message>> sqlite_store::recent_messages(snowflake channel_id,
                                                                   std::size_t limit,
                                                                   snowflake before) {
  HERALD_EXPECTS_NOT_IO_THREAD();  // blocking: never on an io thread
  HERALD_EXPECTS_NOT_IO_THREAD();  // blocking: never on an io thread
  if (limit == 0 || limit > 1000) {
    return store_error{store_errc::invalid_argument, "limit must be 1..1000"};
  }
  std::lock_guard<std::mutex> guard(read_mutex_);
  std::vector<domain::message> out;
  out.reserve(limit);
  auto& q = reader_->recent_messages_.start()
                .bind_id(1, channel_id)
                .bind(2, before == 0 ? INT64_MAX : static_cast<std::int64_t>(before))
                .bind(3, static_cast<std::int64_t>(limit));
  auto r = each_row(q, "recent messages",
                    [&](const statement& row) { out.push_back(read_message(row)); });
  if (!r) {
    return counted(result<std::vector<domain::message>>(r.error()));
  }
  return out;
}

result<snowflake> sqlite_store::guild_of_channel(snowflake channel_id) {
  HERALD_EXPECTS_NOT_IO_THREAD();  // blocking: never on an io thread
  std::lock_guard<std::mutex> guard(read_mutex_);
  std::optional<snowflake> found;
  auto r = each_row(reader_->guild_of_channel_.start().bind_id(1, channel_id), "guild of channel",
                    [&](const statement& q) { found = q.column_id(0); });
  if (!r) {
    return counted(result<snowflake>(r.error()));
  }
  if (!found) {
    return store_error{store_errc::not_found, "no channel " + std::to_string(channel_id)};
  }
  return *found;
}

namespace {

// Precondition: the mutex of `s`'s connection is held.
result<std::uint64_t> read_token_epoch(sqlite_store::impl& s, snowflake user_id) {
  std::optional<std::uint64_t> found;
  auto r = each_row(s.select_token_epoch_.start().bind_id(1, user_id), "token epoch",
                    [&](const statement& q) { found = q.column_id(0); });
  if (!r) {
    return r.error();
  }
  if (!found) {
    return store_error{store_errc::not_found, "no user " + std::to_string(user_id)};
  }
  return *found;
}

}  // namespace

result<std::uint64_t> sqlite_store::token_epoch(snowflake user_id) {
  HERALD_EXPECTS_NOT_IO_THREAD();  // blocking: never on an io thread
  std::lock_guard<std::mutex> guard(read_mutex_);
  return counted(read_token_epoch(*reader_, user_id));
}

result<std::uint64_t> sqlite_store::bump_token_epoch(snowflake user_id) {
  HERALD_EXPECTS_NOT_IO_THREAD();  // blocking: never on an io thread
  std::lock_guard<std::mutex> guard(mutex_);
  auto& s = *impl_;
  if (auto r = s.begin_.start().run("begin"); !r) {
    return counted(result<std::uint64_t>(r.error()));
  }
  auto fail = [&](const store_error& e) {
    (void)s.rollback_.start().run("rollback");
    return counted(result<std::uint64_t>(e));
  };
  if (auto before = read_token_epoch(s, user_id); !before) {
    return fail(before.error());
  }
  if (auto r = s.bump_token_epoch_.start().bind_id(1, user_id).run("bump token epoch"); !r) {
    return fail(r.error());
  }
  auto after = read_token_epoch(s, user_id);
  if (!after) {
    return fail(after.error());
  }
  if (auto r = s.commit_.start().run("commit"); !r) {
    return fail(r.error());
  }
  return after;
}

}  // namespace herald::store
