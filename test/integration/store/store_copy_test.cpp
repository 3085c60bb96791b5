// SPDX-License-Identifier: Apache-2.0
// `heraldctl store copy` and `heraldctl store migrate` as an SRE runs them: a real heraldctl
// process, a real SQLite file and a real PostgreSQL 15 (test/support/postgres_server.hpp).
#include <catch2/catch.hpp>

#include <string>

#include "actors/store/postgres_store.hpp"
#include "actors/store/sqlite_store.hpp"
#include "test/support/postgres_server.hpp"
#include "test/support/process.hpp"
#include "test/support/temp_dir.hpp"

using namespace herald;
using namespace std::chrono_literals;

namespace {

domain::message message(domain::snowflake id, const std::string& content) {
  domain::message m;
  m.id_ = id;
  m.channel_id_ = 300;
  m.guild_id_ = 100;
  m.author_id_ = 2;
  m.content_ = content;
  m.created_at_ = 1795822570123;
  m.mentions_ = {2, 0xfedcba9876543210ULL};
  return m;
}

/// A node's data dir with one guild (claimed twice, ordered up to 7), three messages (one
/// deleted) and a token epoch.
std::string make_sqlite_store(const testing::temp_dir& dir) {
  store::sqlite_options o;
  o.data_dir_ = dir.path() / "data";
  o.file_name_ = "herald.db";
  auto opened = store::sqlite_store::open(o);
  REQUIRE(opened);
  auto& s = *opened.value();
  domain::guild_state g(domain::guild{100, "copied guild", 1});
  REQUIRE(g.add_member(domain::member{1, {}, 1700000000000}, domain::user{1, "owner", false}) ==
          domain::apply_error::ok);
  domain::channel c;
  c.id_ = 300;
  c.guild_id_ = 100;
  c.name_ = "general";
  c.overwrites_ = {{1, domain::overwrite_type::member, 1, 2}};
  REQUIRE(g.create_channel(c) == domain::apply_error::ok);
  REQUIRE(s.save_guild(g));
  REQUIRE(s.insert_message(message(1, "héllo\ttab\nnewline \\ 'quote'")));
  REQUIRE(s.insert_message(message(2, "second")));
  REQUIRE(s.insert_message(message(3, "deleted later")));
  REQUIRE(s.delete_message(3));
  REQUIRE(s.bump_token_epoch(1));
  store::write_batch state;
  state.add(store::write_op::put_feature_state{"reactions", "300/1/1/👍", "0:👍"})
      .add(store::write_op::put_feature_state{"pins", "300/2", std::string{"\0\xff bytes", 8}});
  REQUIRE(s.apply(state));
  // The guild was ordered up to 7 under its second claim.
  REQUIRE(s.claim_guild(100, 3));
  REQUIRE(s.claim_guild(100, 4));
  store::write_batch ordered;
  ordered.add(store::write_op::upsert_user{domain::user{1, "owner", false}});
  ordered.set_fence({100, 2, 7});
  REQUIRE(s.apply(ordered));
  return (o.data_dir_ / o.file_name_).string();
}

testing::run_result ctl(const std::vector<std::string>& args) {
  return testing::run_process(testing::bin_path("heraldctl"), args, 120s);
}

}  // namespace

TEST_CASE("store_copy_moves_every_row_to_postgres_and_verifies_counts_and_checksums") {
  testing::temp_dir dir;
  const auto file = make_sqlite_store(dir);
  auto& pg = testing::shared_postgres_server();
  const auto url = pg.url(pg.create_database());
  auto r = ctl({"store", "copy", "--from", "sqlite:" + file, "--to", url});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("table=messages rows=3 sha256=") != std::string::npos);
  CHECK(r.out.find("table=token_epochs rows=1 ") != std::string::npos);
  CHECK(r.out.find("table=feature_state rows=2 ") != std::string::npos);
  CHECK(r.out.find("table=guild_owners rows=1 ") != std::string::npos);
  CHECK(r.out.find("verified=true tables=11 rows=") != std::string::npos);

  store::postgres_options o;
  o.url_ = url;
  auto opened = store::postgres_store::open(o);
  REQUIRE(opened);
  auto& target = *opened.value();
  auto guild = target.load_guild(100);
  REQUIRE(guild);
  CHECK(guild.value().info().name_ == "copied guild");
  REQUIRE(guild.value().find_channel(300) != nullptr);
  CHECK(guild.value().find_channel(300)->overwrites_.size() == 1);
  CHECK(target.get_message(1).value() == message(1, "héllo\ttab\nnewline \\ 'quote'"));
  CHECK(target.get_message(3).value().deleted_);
  CHECK(target.token_epoch(1).value() == 1);
  auto owner = target.guild_owner_of(100);
  REQUIRE(owner);
  CHECK(owner.value().epoch_ == 2);
  CHECK(owner.value().node_id_ == 4);
  CHECK(owner.value().last_order_ == 7);
  auto pins = target.load_feature_state("pins", "");
  REQUIRE(pins);
  REQUIRE(pins.value().size() == 1);
  CHECK(pins.value()[0].value_ == std::string{"\0\xff bytes", 8});
  CHECK(target.load_feature_state("reactions", "300/").value().size() == 1);
}

TEST_CASE("store_copy_refuses_a_target_that_holds_rows_and_bad_arguments") {
  testing::temp_dir dir;
  const auto file = make_sqlite_store(dir);
  auto& pg = testing::shared_postgres_server();
  const auto url = pg.url(pg.create_database());
  REQUIRE(ctl({"store", "copy", "--from", "sqlite:" + file, "--to", url}).exit_code == 0);
  auto again = ctl({"store", "copy", "--from", "sqlite:" + file, "--to", url});
  CHECK(again.exit_code == 1);
  CHECK(again.err.find("the target is not empty: table users has 1 rows") != std::string::npos);

  auto no_prefix = ctl({"store", "copy", "--from", file, "--to", url});
  CHECK(no_prefix.exit_code == 2);
  CHECK(no_prefix.err.find("--from: expected sqlite:PATH") != std::string::npos);
  auto missing = ctl({"store", "copy", "--from", "sqlite:" + dir.file("nope.db"), "--to", url});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("not_found: no SQLite store at") != std::string::npos);
  auto not_pg = ctl({"store", "copy", "--from", "sqlite:" + file, "--to", "mysql://x"});
  CHECK(not_pg.exit_code == 2);
}

TEST_CASE("two_processes_migrating_one_new_database_at_once_both_succeed") {
  auto& pg = testing::shared_postgres_server();
  const auto database = pg.create_database();
  const auto url = pg.url(database);
  testing::child_process a(testing::bin_path("heraldctl"), {"store", "migrate", "--to", url});
  testing::child_process b(testing::bin_path("heraldctl"), {"store", "migrate", "--to", url});
  auto code_a = a.wait_for(60s);
  auto code_b = b.wait_for(60s);
  INFO(a.out() << a.err() << b.out() << b.err());
  CHECK(code_a == 0);
  CHECK(code_b == 0);
  const auto expected =
      "schema_version=" + std::to_string(store::postgres_store::latest_schema_version()) + "\n";
  CHECK(a.out() == expected);
  CHECK(b.out() == expected);
  CHECK(pg.psql(database, "SELECT count(*), max(version) FROM herald_schema") ==
        "1|" + std::to_string(store::postgres_store::latest_schema_version()) + "\n");
}
