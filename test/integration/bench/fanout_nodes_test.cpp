// SPDX-License-Identifier: Apache-2.0
// herald-bench fanout --nodes 3 at smoke size: three node processes on one PostgreSQL database
// (the shared test server), guilds on node 1, sessions on nodes 2 and 3. Asserts that every
// event reached every session and that node 1 sent each event at most once per subscribed
// node; the rates are printed, never asserted.
#include <chrono>
#include <iostream>
#include <string>

#include <catch2/catch.hpp>

#include "test/support/postgres_server.hpp"
#include "test/support/process.hpp"

namespace {

using namespace herald::testing;

/// Runs the bench with `args` after the fixed ones on a fresh database; prints its output.
run_result run_fanout_nodes(std::vector<std::string> args) {
  auto& pg = shared_postgres_server();
  std::vector<std::string> argv{
      "fanout", "--nodes", "3", "--timeout", "60", "--postgres-url", pg.url(pg.create_database())};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run_process(bin_path("herald-bench"), argv, std::chrono::seconds{240});
  std::cout << r.out << r.err;  // the figures, for the log
  return r;
}

}  // namespace

TEST_CASE("a_three_node_burst_reaches_every_session_with_at_most_one_message_per_node_and_event") {
  auto r = run_fanout_nodes({"--sessions", "300", "--guilds", "3", "--events", "12", "--payload",
                             "50", "--mode", "burst"});
  REQUIRE(r.exit_code.has_value());
  auto k = key_values(r.out);
  CHECK(k["complete"] == "1");
  CHECK(k["deliveries"] == "1200");  // 100 sessions per guild, 4 events per guild
  CHECK(k["expected_deliveries"] == "1200");
  CHECK(k["failed_publishes"] == "0");
  // Every guild has sessions on both session nodes: each event crosses to each of them once,
  // in a batch of its own or with others.
  REQUIRE(!k["network_messages_per_event"].empty());
  CHECK(std::stod(k["network_messages_per_event"]) > 0);
  CHECK(std::stod(k["network_messages_per_event"]) <= 2);
  CHECK(std::stod(k["cross_node_bytes_per_event"]) > 50);  // at least the content, once
  CHECK(*r.exit_code == 0);
}

TEST_CASE("a_three_node_serial_run_publishes_each_event_after_the_last_reached_every_session") {
  auto r = run_fanout_nodes({"--sessions", "200", "--guilds", "1", "--events", "5", "--payload",
                             "20", "--mode", "serial"});
  REQUIRE(r.exit_code.has_value());
  auto k = key_values(r.out);
  CHECK(k["complete"] == "1");
  CHECK(k["deliveries"] == "1000");
  // One event in flight at a time: nothing to batch, so exactly one message per session node.
  CHECK(k["network_messages_per_event"] == "2");
  CHECK(*r.exit_code == 0);
}
