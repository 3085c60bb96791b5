// SPDX-License-Identifier: Apache-2.0
// The PostgreSQL store's reader connections (store.postgres_readers): reads from several threads
// run on the server at once, each on its own connection; a read finding every reader busy waits
// (bounded); a lost reader connection is replaced. Parallelism is shown on the server, not by
// timing: the test holds an exclusive lock on the users table from its own connection, so every
// read of a user waits on the server for it, and pg_stat_activity shows how many wait at once.
#include <catch2/catch.hpp>

#include <future>
#include <pqxx/pqxx>

#include "runtime/metrics/metrics.hpp"
#include "test/actors/store/store_fixture.hpp"
#include "test/support/eventually.hpp"

using namespace herald::store;
using herald::store::test::backend;
using herald::store::test::backend_fixture;
using herald::testing::shared_postgres_server;

namespace {

constexpr snowflake user_id = 7;

std::unique_ptr<postgres_store> open_pg(const postgres_options& options) {
  auto opened = postgres_store::open(options);
  if (!opened) {
    FAIL("open failed: " << to_string(opened.error().code_) << ": " << opened.error().message_);
  }
  return std::move(opened).value();
}

// The store's connections (psql and the test's lock holder name themselves) matching `where`.
int count_of(const backend_fixture& fx, const std::string& where) {
  const auto out = shared_postgres_server().psql(
      fx.database(),
      "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
      "application_name NOT IN ('psql', 'test lock') AND " +
          where);
  return std::stoi(out);
}

// The store's connections.
int store_connections(const backend_fixture& fx) {
  return count_of(fx, "true");
}

// Reads waiting on the server for the table lock.
int reads_waiting_on_lock(const backend_fixture& fx) {
  return count_of(fx, "wait_event_type = 'Lock'");
}

double reader_waits() {
  return herald::metrics::registry::global().value_of("herald_store_reader_waits_total",
                                                      {{"backend", "postgres"}});
}

double connections_lost() {
  return herald::metrics::registry::global().value_of("herald_store_connections_lost_total",
                                                      {{"backend", "postgres"}});
}

// Holds ACCESS EXCLUSIVE on `users` from a connection of the test's own until release():
// every read of a user blocks on the server meanwhile.
class users_lock {
public:
  explicit users_lock(const std::string& url)
      : conn_(url), tx_(std::make_unique<pqxx::work>(conn_)) {
    tx_->exec("SET application_name = 'test lock'");
    tx_->exec("LOCK TABLE users IN ACCESS EXCLUSIVE MODE");
  }
  void release() {
    if (tx_ != nullptr) {
      tx_->abort();
      tx_.reset();
    }
  }
  ~users_lock() { release(); }

private:
  pqxx::connection conn_;
  std::unique_ptr<pqxx::work> tx_;
};

using user_read = std::future<result<herald::domain::user>>;

std::vector<user_read> start_reads(postgres_store& store, int count) {
  std::vector<user_read> reads;
  for (int i = 0; i < count; ++i) {
    reads.push_back(std::async(std::launch::async, [&store] { return store.get_user(user_id); }));
  }
  return reads;
}

void check_all_read(std::vector<user_read>& reads) {
  for (auto& r : reads) {
    REQUIRE(r.wait_for(herald::testing::default_wait) == std::future_status::ready);
    auto got = r.get();
    INFO((got ? std::string{"ok"} : got.error().message_));
    REQUIRE(got);
    CHECK(got.value().username_ == "seven");
  }
}

}  // namespace

TEST_CASE("concurrent_reads_run_in_parallel_one_reader_connection_each_up_to_the_pool_size") {
  backend_fixture fx(backend::postgres);
  auto options = fx.postgres();
  options.readers_ = 3;
  auto store = open_pg(options);
  REQUIRE(store->upsert_user({user_id, "seven", false}));
  const double waits_before = reader_waits();
  std::vector<user_read> reads;
  {
    users_lock lock(options.url_);
    // One more read than readers: three wait on the server at once, the fourth in the pool.
    reads = start_reads(*store, 4);
    REQUIRE(herald::testing::eventually([&] { return reads_waiting_on_lock(fx) == 3; },
                                        herald::testing::default_wait,
                                        herald::testing::slow_poll_step));
    REQUIRE(herald::testing::eventually([&] { return reader_waits() >= waits_before + 1; }));
    // The pool is the whole story: the writer and three readers, no fourth reader.
    CHECK(store_connections(fx) == 4);
    CHECK(reads_waiting_on_lock(fx) == 3);
  }
  check_all_read(reads);
  CHECK(store_connections(fx) == 4);
}

TEST_CASE("a_read_finding_every_reader_busy_past_the_wait_bound_is_busy") {
  backend_fixture fx(backend::postgres);
  auto options = fx.postgres();
  options.readers_ = 1;
  options.reader_wait_ = std::chrono::milliseconds{100};
  auto store = open_pg(options);
  REQUIRE(store->upsert_user({user_id, "seven", false}));
  std::vector<user_read> reads;
  {
    users_lock lock(options.url_);
    reads = start_reads(*store, 1);
    REQUIRE(herald::testing::eventually([&] { return reads_waiting_on_lock(fx) == 1; },
                                        herald::testing::default_wait,
                                        herald::testing::slow_poll_step));
    auto refused = store->get_user(user_id);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code_ == store_errc::busy);
    CHECK(refused.error().retryable());
    CHECK(refused.error().message_.find("reader connections stayed busy") != std::string::npos);
  }
  check_all_read(reads);
  CHECK(store->get_user(user_id));  // the reader is free again
}

TEST_CASE("lost_reader_connections_are_replaced_each_on_its_own") {
  backend_fixture fx(backend::postgres);
  auto options = fx.postgres();
  options.readers_ = 2;
  options.retry_pause_ = std::chrono::milliseconds{10};
  auto store = open_pg(options);
  REQUIRE(store->upsert_user({user_id, "seven", false}));
  // Both readers in use at once, so that both hold a connection.
  auto both_busy = [&] {
    users_lock lock(options.url_);
    auto reads = start_reads(*store, 2);
    REQUIRE(herald::testing::eventually([&] { return reads_waiting_on_lock(fx) == 2; },
                                        herald::testing::default_wait,
                                        herald::testing::slow_poll_step));
    lock.release();
    check_all_read(reads);
  };
  both_busy();
  REQUIRE(store_connections(fx) == 3);  // the writer and two readers

  const double lost_before = connections_lost();
  shared_postgres_server().psql(
      fx.database(),
      "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = "
      "current_database() AND application_name = ''");
  REQUIRE(herald::testing::eventually([&] { return store_connections(fx) == 0; },
                                      herald::testing::default_wait,
                                      herald::testing::slow_poll_step));
  // Each reader finds its connection gone, drops it and reconnects within the same call.
  both_busy();
  CHECK(connections_lost() >= lost_before + 2);
  CHECK(store_connections(fx) == 2);  // two new readers; the writer reconnects on its next write
  REQUIRE(store->upsert_user({user_id + 1, "eight", false}));
  CHECK(store_connections(fx) == 3);
}
