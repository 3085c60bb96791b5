// SPDX-License-Identifier: Apache-2.0
// What only the PostgreSQL store has: its connection string, schema versions and concurrent
// migration, its error mapping, a server restart under a live store, and in-doubt commits.
// Each test runs a real PostgreSQL 15 (test/support/postgres_server.hpp); if it cannot start,
// the test fails.
#include <catch2/catch.hpp>

#include <future>
#include <thread>

#include "actors/store/detail/pg_conninfo.hpp"
#include "actors/store/detail/pg_errors.hpp"
#include "runtime/metrics/metrics.hpp"
#include "test/actors/store/store_fixture.hpp"
#include "test/support/eventually.hpp"
#include "test/support/process.hpp"

using namespace herald::store;
using herald::store::test::backend;
using herald::store::test::backend_fixture;
using herald::store::test::sample_message;
using herald::testing::postgres_server;
using herald::testing::shared_postgres_server;

namespace {

std::unique_ptr<postgres_store> open_pg(const postgres_options& options) {
  auto opened = postgres_store::open(options);
  if (!opened) {
    FAIL("open failed: " << to_string(opened.error().code_) << ": " << opened.error().message_);
  }
  return std::move(opened).value();
}

postgres_options options_on(const postgres_server& server, const std::string& database) {
  postgres_options o;
  o.url_ = server.url(database);
  return o;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
    s.pop_back();
  }
  return s;
}

}  // namespace

TEST_CASE("opening_a_new_database_migrates_it_to_the_latest_schema") {
  backend_fixture fx(backend::postgres);
  auto store = fx.open();
  CHECK(postgres_store::latest_schema_version() >= 1);
  CHECK(
      trimmed(shared_postgres_server().psql(fx.database(), "SELECT version FROM herald_schema")) ==
      std::to_string(postgres_store::latest_schema_version()));
  // Reopening keeps the data and the version.
  REQUIRE(store->upsert_user({7, "kept", true}));
  store.reset();
  auto again = fx.open();
  CHECK(again->get_user(7).value() == herald::domain::user{7, "kept", true});
}

TEST_CASE("a_database_from_a_newer_schema_is_refused") {
  backend_fixture fx(backend::postgres);
  { fx.open(); }
  shared_postgres_server().psql(fx.database(), "UPDATE herald_schema SET version = 999");
  auto opened = postgres_store::open(fx.postgres());
  REQUIRE_FALSE(opened);
  CHECK(opened.error().code_ == store_errc::schema_too_new);
  CHECK(opened.error().message_.find("999") != std::string::npos);
}

TEST_CASE("stores_opening_one_new_database_at_once_migrate_it_once") {
  backend_fixture fx(backend::postgres);
  constexpr int openers = 4;
  std::vector<std::future<result<std::unique_ptr<postgres_store>>>> opened;
  for (int i = 0; i < openers; ++i) {
    opened.push_back(
        std::async(std::launch::async, [&] { return postgres_store::open(fx.postgres()); }));
  }
  for (auto& f : opened) {
    auto r = f.get();
    INFO((r ? std::string{"ok"} : r.error().message_));
    CHECK(r);
  }
  CHECK(trimmed(shared_postgres_server().psql(fx.database(),
                                              "SELECT count(*) FROM herald_schema")) == "1");
  CHECK(
      trimmed(shared_postgres_server().psql(fx.database(), "SELECT version FROM herald_schema")) ==
      std::to_string(postgres_store::latest_schema_version()));
}

TEST_CASE("a_malformed_url_is_an_invalid_argument_and_a_closed_port_is_busy") {
  postgres_options bad;
  bad.url_ = "postgresql://herald@127.0.0.1:5432/db?no_such_option=1";
  auto opened = postgres_store::open(bad);
  REQUIRE_FALSE(opened);
  CHECK(opened.error().code_ == store_errc::invalid_argument);
  postgres_options empty;
  CHECK(postgres_store::open(empty).error().code_ == store_errc::invalid_argument);

  postgres_options closed;
  closed.url_ =
      "postgresql://herald@127.0.0.1:" + std::to_string(herald::testing::free_port()) + "/herald";
  closed.retry_pause_ = std::chrono::milliseconds{1};
  auto refused = postgres_store::open(closed);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code_ == store_errc::busy);
  CHECK(refused.error().retryable());
  // One line, naming the server: it ends up in heraldd's start error.
  CHECK(refused.error().message_.find("127.0.0.1:") == 0);
  CHECK(refused.error().message_.find("cannot connect") != std::string::npos);
  CHECK(refused.error().message_.find('\n') == std::string::npos);
}

TEST_CASE("the_connection_string_carries_the_password_quoted_and_the_description_does_not") {
  auto info = detail::make_conninfo("postgresql://herald@db.example:6543/chat", "p'w\\d");
  REQUIRE(info);
  CHECK(info.value().conninfo_.find("password='p\\'w\\\\d'") != std::string::npos);
  CHECK(info.value().conninfo_.find("connect_timeout='3'") != std::string::npos);
  CHECK(info.value().description_ == "db.example:6543/chat as herald");
  CHECK(info.value().description_.find("p'w") == std::string::npos);
  auto timeout = detail::make_conninfo("host=h connect_timeout=9", "");
  REQUIRE(timeout);
  CHECK(timeout.value().conninfo_.find("connect_timeout='9'") != std::string::npos);
  CHECK(timeout.value().conninfo_.find("password") == std::string::npos);
}

TEST_CASE("sqlstates_map_to_the_same_store_errors_as_sqlite") {
  CHECK(detail::errc_of_sqlstate("23505") == store_errc::constraint);  // unique_violation
  CHECK(detail::errc_of_sqlstate("40001") == store_errc::busy);        // serialization_failure
  CHECK(detail::errc_of_sqlstate("40P01") == store_errc::busy);        // deadlock_detected
  CHECK(detail::errc_of_sqlstate("57P01") == store_errc::busy);        // admin_shutdown
  CHECK(detail::errc_of_sqlstate("08006") == store_errc::busy);        // connection_failure
  CHECK(detail::errc_of_sqlstate("53100") == store_errc::io_error);    // disk_full
  CHECK(detail::errc_of_sqlstate("22021") == store_errc::invalid_argument);  // bad encoding
  CHECK(detail::errc_of_sqlstate("42P01") == store_errc::internal);          // undefined_table
}

TEST_CASE("text_postgresql_cannot_hold_is_an_invalid_argument_of_its_batch_only") {
  backend_fixture fx(backend::postgres);
  auto store = fx.open();
  auto m = sample_message(1);
  m.content_ = std::string("nul \0 byte", 10);
  auto r = store->insert_message(m);
  REQUIRE_FALSE(r);
  CHECK(r.error().code_ == store_errc::invalid_argument);
  CHECK_FALSE(store->get_message(1));  // refused, never stored cut at the NUL
  auto invalid_utf8 = sample_message(3);
  invalid_utf8.content_ = "\xff\xfe";
  auto bad = store->insert_message(invalid_utf8);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code_ == store_errc::invalid_argument);
  REQUIRE(store->insert_message(sample_message(2)));
}

TEST_CASE("a_restarted_server_gives_retryable_errors_then_the_same_store_recovers") {
  postgres_server server;
  server.psql("postgres", "CREATE DATABASE herald");
  auto options = options_on(server, "herald");
  options.retry_pause_ = std::chrono::milliseconds{10};
  auto store = open_pg(options);
  auto& reg = herald::metrics::registry::global();
  const double lost_before =
      reg.value_of("herald_store_connections_lost_total", {{"backend", "postgres"}});
  REQUIRE(store->insert_message(sample_message(1)));

  server.stop();
  auto write = store->insert_message(sample_message(2));
  REQUIRE_FALSE(write);
  CHECK(write.error().code_ == store_errc::busy);
  CHECK(write.error().retryable());
  auto read = store->get_message(1);
  REQUIRE_FALSE(read);
  CHECK(read.error().code_ == store_errc::busy);

  server.start();
  REQUIRE(store->insert_message(sample_message(2)));
  CHECK(store->get_message(1));
  CHECK(store->get_message(2));
  CHECK(reg.value_of("herald_store_connections_lost_total", {{"backend", "postgres"}}) >=
        lost_before + 2);  // the writer's and the reader's
}

TEST_CASE("a_connection_lost_during_commit_is_reported_in_doubt_not_retried") {
  postgres_server server;
  server.psql("postgres", "CREATE DATABASE herald");
  auto store = open_pg(options_on(server, "herald"));
  // With a synchronous standby that never comes, COMMIT waits after committing locally; ending
  // the backend then loses the connection in the middle of COMMIT.
  server.psql("postgres", "ALTER SYSTEM SET synchronous_standby_names = 'nobody'");
  server.psql("postgres", "SELECT pg_reload_conf()");
  const std::string waiting = "SELECT pid FROM pg_stat_activity WHERE wait_event = 'SyncRep'";
  result<void> answer;
  snowflake id = 100;
  // The writer's backend rereads the config at its next command; until then a commit may
  // still pass, so a few messages are tried (bounded).
  for (int attempt = 0; attempt < 20; ++attempt) {
    ++id;
    auto pending = std::async(std::launch::async,
                              [&, id] { return store->insert_message(sample_message(id)); });
    std::string pid;
    bool done = false;
    REQUIRE(herald::testing::eventually(
        [&] {
          if (pending.wait_for(std::chrono::milliseconds{0}) == std::future_status::ready) {
            done = true;
            return true;
          }
          pid = trimmed(server.psql("postgres", waiting));
          return !pid.empty();
        },
        herald::testing::default_wait, herald::testing::slow_poll_step));
    if (!done) {
      server.psql("postgres", "SELECT pg_terminate_backend(" + pid + ")");
      // A store that retried the commit as new would wait for the standby again: release
      // it before failing, so that the test ends.
      if (pending.wait_for(herald::testing::default_wait) != std::future_status::ready) {
        server.psql("postgres", "ALTER SYSTEM RESET synchronous_standby_names");
        server.psql("postgres", "SELECT pg_reload_conf()");
        FAIL("the store did not answer after its connection was lost during COMMIT");
      }
    }
    answer = pending.get();
    if (!done) {
      break;
    }
    REQUIRE(answer);
  }
  REQUIRE_FALSE(answer);
  CHECK(answer.error().code_ == store_errc::in_doubt);
  CHECK_FALSE(answer.error().retryable());
  server.psql("postgres", "ALTER SYSTEM RESET synchronous_standby_names");
  server.psql("postgres", "SELECT pg_reload_conf()");
  // It had committed locally: a retry as new would now be a duplicate.
  auto stored = store->get_message(id);
  REQUIRE(stored);
  CHECK(store->insert_message(sample_message(id)).error().code_ == store_errc::constraint);
}

TEST_CASE("analyze_refreshes_the_planner_statistics_after_a_bulk_load") {
  backend_fixture fx(backend::postgres);
  auto store = fx.open();
  auto* pg = dynamic_cast<postgres_store*>(store.get());
  REQUIRE(pg != nullptr);
  write_batch batch;
  for (snowflake id = 1; id <= 200; ++id) {
    batch.add(write_op::upsert_user{{id, "user" + std::to_string(id), false}});
  }
  REQUIRE(store->apply(batch));
  const std::string analyzed =
      "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'users'";
  // Statistics reach pg_stat_user_tables from the analyzing backend when its transaction ends.
  CHECK(trimmed(shared_postgres_server().psql(fx.database(), analyzed)) == "f");
  REQUIRE(pg->analyze());
  CHECK(herald::testing::eventually(
      [&] { return trimmed(shared_postgres_server().psql(fx.database(), analyzed)) == "t"; },
      herald::testing::default_wait, herald::testing::slow_poll_step));
  CHECK(trimmed(shared_postgres_server().psql(
            fx.database(), "SELECT reltuples FROM pg_class WHERE relname = 'users'")) == "200");
}
